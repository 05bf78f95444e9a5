//! A connection to one target app: its hosts, settings, HTTP client and auth, shared by every
//! call made through it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use appwire_manifest::env::Lookup;
use appwire_manifest::{ConnectionSettings, SecretString, ServerConfig};
use http::HeaderValue;
use tokio::time::Instant;

use crate::auth::{Auth, ClientKey, KeyFile, ServerConfigError, read_server_config};
use crate::breaker::BreakerSettings;
use crate::budget::RetryBudget;
use crate::call::EventUrls;
use crate::client::{Configure, build_client, check_host, settings_not_applied};
use crate::error::{ConfigError, Error};
use crate::pool::{HostPool, HostSnapshot};
use crate::request::Request;
use crate::response::RawResponse;
use crate::retry::RetryPolicy;
use crate::signing::{Secret, Signer};
use crate::stale::Answered;
use crate::target::Target;

/// Largest response body read by default: 16 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 16 << 20;

/// A connection to one target app, shared by all calls to it: hosts with their circuit
/// breakers, retry budget, HTTP client and auth. Cloning it is cheap and shares all of that.
///
/// Build one with [`Connection::builder`] or [`Connection::from_config`], then
/// [`send`](Connection::send) requests through it.
///
/// How hopeit's apps-client settings apply:
///
/// | setting | effect |
/// |---|---|
/// | `connection_str` | the hosts, in order; one trailing `/` of a host is dropped |
/// | `circuit_breaker_*` | each host's [`Breaker`](crate::breaker::Breaker), with `appwire.half_open_probes` and `appwire.max_open_seconds` |
/// | `retries`, `retry_backoff_ms` | the [`RetryPolicy`], with `appwire.backoff_max_ms`, `jitter`, `retry_post_on_5xx`, `deadline_ms` |
/// | `ssl` | `false` accepts any server certificate, as aiohttp's `ssl=False` |
/// | `max_connections_per_host` | idle connections kept per host (`0`: no limit); reqwest does not cap connections in use |
/// | `appwire.pool_idle_timeout_ms` | how long an idle pooled connection is kept (default 50 s, below servers' keep-alive) |
/// | `max_connections` | not enforced: reqwest has no total limit; a value other than hopeit's default logs a warning |
/// | `dns_cache_ttl` | not applied: names are resolved per new connection; a value other than `0` or hopeit's default logs a warning |
/// | `auth_strategy`, `appwire.bearer_token` | see [`auth`](crate::auth) |
/// | `routes_override` | routes by target event, mangled as hopeit mangles them |
///
/// Proxy environment variables are ignored, as aiohttp ignores them under hopeit.
#[derive(Clone)]
pub struct Connection {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) name: String,
    pub(crate) caller: String,
    /// `caller` as the `x-track-client-app-key` value every call sends.
    pub(crate) caller_header: HeaderValue,
    pub(crate) target: Target,
    pub(crate) routes_override: HashMap<String, String>,
    pub(crate) urls: EventUrls,
    pub(crate) pool: HostPool,
    pub(crate) client: reqwest::Client,
    /// The client's connections that have answered, to tell a stale one.
    pub(crate) answered: Answered,
    pub(crate) policy: RetryPolicy,
    pub(crate) budget: Option<RetryBudget>,
    pub(crate) attempt_timeout: Duration,
    pub(crate) idempotent_events: HashSet<String>,
    pub(crate) auth: Auth,
    pub(crate) signer: Option<Signer>,
    pub(crate) max_body: usize,
    /// What answers instead of the hosts, for a stand-in connection.
    pub(crate) stand_in: Option<Arc<StandIn>>,
}

/// What answers a stand-in connection's calls.
pub(crate) type StandIn = dyn Fn(Request) -> Result<RawResponse, Error> + Send + Sync;

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Connection")
            .field("name", &inner.name)
            .field("caller", &inner.caller)
            .field("target", &inner.target)
            .field("hosts", &inner.pool.urls())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// A connection whose calls `answer` answers instead of hosts, for tests of code that
    /// makes calls (a generated client's among them: [`Client::stand_in`](crate::Client::stand_in)).
    ///
    /// `answer` sees each request as it would be sent, options applied. A response of a 2xx
    /// or declared status is the call's answer; any other is the error a host's would be
    /// ([`Error::Status`], or [`Error::Unauthorized`] for a 401). The connection has no hosts,
    /// retries nothing and is named `stand-in`.
    ///
    /// # Errors
    /// The HTTP client every connection holds cannot be built (no TLS backend).
    pub fn stand_in(
        answer: impl Fn(Request) -> Result<RawResponse, Error> + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        let mut settings = ConnectionSettings::new("http://stand-in.invalid");
        settings.auth_strategy = appwire_manifest::AuthStrategy::Unsecured;
        let target = Target::new("stand-in", "0");
        let mut builder = Self::builder("stand-in", target, settings, "stand-in");
        builder.stand_in = Some(Arc::new(answer));
        builder.build()
    }

    /// Starts a connection named `name` (it names the connection in errors and traces) to
    /// `target`, with hopeit's apps-client `settings`, on behalf of the caller app
    /// `caller_app_key` (e.g. `my_app.1x0`).
    pub fn builder(
        name: impl Into<String>,
        target: impl Into<Target>,
        settings: ConnectionSettings,
        caller_app_key: impl Into<String>,
    ) -> ConnectionBuilder {
        ConnectionBuilder {
            name: name.into(),
            target: target.into(),
            settings,
            caller: caller_app_key.into(),
            client: None,
            configure: None,
            passphrase: None,
            secrets_location: None,
            server: None,
            client_key: None,
            max_body: DEFAULT_MAX_BODY_SIZE,
            stand_in: None,
            seed: None,
        }
    }

    /// The connection's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The caller app's key, sent as `x-track-client-app-key`.
    pub fn caller_app_key(&self) -> &str {
        &self.inner.caller
    }

    /// The target app.
    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    /// The hosts' base URLs, in `connection_str` order, without a trailing `/`.
    pub fn hosts(&self) -> &[String] {
        self.inner.pool.urls()
    }

    /// The route `event` is called at: the target's route, or `routes_override`'s.
    pub fn route(&self, event: &str) -> String {
        self.inner.route(event)
    }

    /// Per-host state, for metrics: breaker state, failures, attempts in flight, latency.
    pub fn snapshot(&self) -> Vec<HostSnapshot> {
        self.inner.pool.snapshot()
    }
}

impl Inner {
    pub(crate) fn route(&self, event: &str) -> String {
        let over = self.routes_override.get(event).map(String::as_str);
        self.target.route(event, over)
    }
}

/// Builds a [`Connection`]; see [`Connection::builder`].
#[must_use]
pub struct ConnectionBuilder {
    name: String,
    target: Target,
    settings: ConnectionSettings,
    caller: String,
    client: Option<reqwest::Client>,
    configure: Option<Configure>,
    passphrase: Option<SecretString>,
    secrets_location: Option<PathBuf>,
    /// From `server_config`, or the error reading its file, which `build` reports.
    server: Option<Result<KeyFile, ServerConfigError>>,
    client_key: Option<ClientKey>,
    max_body: usize,
    seed: Option<u64>,
    stand_in: Option<Arc<StandIn>>,
}

impl fmt::Debug for ConnectionBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionBuilder")
            .field("name", &self.name)
            .field("target", &self.target)
            .field("settings", &self.settings)
            .field("caller", &self.caller)
            .finish_non_exhaustive()
    }
}

impl ConnectionBuilder {
    /// Sends through this client instead of one built from the settings. Its own
    /// configuration then applies: `ssl`, `max_connections_per_host`,
    /// `appwire.connect_timeout_ms` and `appwire.pool_idle_timeout_ms` are not applied to it
    /// (a warning names those set to other than their defaults). To tune the client the
    /// connection builds, use [`configure_client`](Self::configure_client) instead.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Adjusts the client the connection builds, after the settings are applied to it: to
    /// add default headers, TCP keep-alive, a local address or other pool tuning while
    /// keeping the settings. Ignored when a whole [`client`](Self::client) is given.
    pub fn configure_client(
        mut self,
        configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + 'static,
    ) -> Self {
        self.configure = Some(Box::new(configure));
        self
    }

    /// The settings the connection is built with: the manifest's, for a builder made from
    /// one.
    pub fn settings(&self) -> &ConnectionSettings {
        &self.settings
    }

    /// Changes the settings before the connection is built: to override some of a manifest's
    /// settings and keep the rest.
    ///
    /// ```
    /// # use appwire::{Connection, ConnectionSettings, Target};
    /// let builder = Connection::builder("target", Target::new("target-app", "1.0"),
    ///     ConnectionSettings::new("http://h1:8020"), "caller.1x0");
    /// let builder = builder.with_settings(|s| {
    ///     s.retries = 3;
    ///     s.appwire.deadline_ms = 5_000;
    /// });
    /// assert_eq!(builder.settings().retries, 3);
    /// ```
    ///
    /// `appwire.secrets_location` and `appwire.auth_passphrase` set here stand where the
    /// manifest's would: below a [`server_config`](Self::server_config) and explicit calls.
    pub fn with_settings(mut self, change: impl FnOnce(&mut ConnectionSettings)) -> Self {
        change(&mut self.settings);
        self
    }

    /// The passphrase of the caller's private key for `CLIENT_APP_PUBLIC_KEY` (hopeit's
    /// server config `auth.auth_passphrase`); see [`server_config`](Self::server_config)
    /// for where it comes from otherwise.
    pub fn auth_passphrase(mut self, passphrase: SecretString) -> Self {
        self.passphrase = Some(passphrase);
        self
    }

    /// The folder of the caller's private key for `CLIENT_APP_PUBLIC_KEY`, read from
    /// `<folder>/.private/<caller app key>.pem` (hopeit's server config
    /// `auth.secrets_location`); see [`server_config`](Self::server_config) for where it
    /// comes from otherwise.
    pub fn secrets_location(mut self, folder: impl Into<PathBuf>) -> Self {
        self.secrets_location = Some(folder.into());
        self
    }

    /// Takes the folder and passphrase of the caller's private key for
    /// `CLIENT_APP_PUBLIC_KEY` from the hopeit server config the caller's server runs with:
    /// `auth.secrets_location` and `auth.auth_passphrase`, whose key hopeit reads (and, with
    /// `create_keys`, writes) at `<secrets_location>/.private/<app key>.pem`. A relative
    /// folder is relative to the current directory, as it is to hopeit's; an empty passphrase
    /// is none.
    ///
    /// Where each comes from, first found:
    ///
    /// 1. explicit calls: [`client_key`](Self::client_key) (the key itself, so neither is
    ///    needed), [`secrets_location`](Self::secrets_location),
    ///    [`auth_passphrase`](Self::auth_passphrase);
    /// 2. the server config, folder and passphrase together (the last one given);
    /// 3. the settings' `appwire.secrets_location` and `appwire.auth_passphrase` (the
    ///    manifest's, or as changed by [`with_settings`](Self::with_settings));
    /// 4. the defaults: `.secrets/` and no passphrase.
    pub fn server_config(mut self, config: &ServerConfig) -> Self {
        self.server = Some(Ok(KeyFile::from(config)));
        self
    }

    /// [`server_config`](Self::server_config) from the file at `path`, the first of
    /// `hopeit_server run --config-files`, read as hopeit reads it: `${VAR}`s expanded from
    /// `env` (see [`read_server_config`]). A file that cannot be read fails
    /// [`build`](Self::build) with [`ConfigError::ServerConfig`], which names the file and
    /// says why.
    pub fn server_config_file(
        mut self,
        path: impl AsRef<Path>,
        env: &(impl Lookup + ?Sized),
    ) -> Self {
        self.server = Some(read_server_config(path, env).map(|config| KeyFile::from(&config)));
        self
    }

    /// Signs access tokens with this key instead of reading
    /// `<secrets_location>/.private/<caller app key>.pem`.
    pub fn client_key(mut self, key: ClientKey) -> Self {
        self.client_key = Some(key);
        self
    }

    /// Largest response body read (default [`DEFAULT_MAX_BODY_SIZE`]); a larger one fails the
    /// call with [`Error::BodyTooLarge`].
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Seeds the random choices of `least_loaded` balancing, for reproducible runs.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Builds the connection: checks every host, loads the client key when the auth
    /// strategy needs one, and builds the HTTP client.
    pub fn build(self) -> Result<Connection, Error> {
        let Self {
            name,
            target,
            settings,
            caller,
            client,
            configure,
            passphrase,
            secrets_location,
            server,
            client_key,
            max_body,
            seed,
            stand_in,
        } = self;
        let ext = &settings.appwire;

        let hosts = settings
            .hosts()
            .map(|host| check_host(&name, host))
            .collect::<Result<Vec<_>, _>>()?;
        let pool =
            HostPool::new(hosts, &BreakerSettings::from(&settings), ext.balance).map_err(|_| {
                ConfigError::InvalidHost {
                    connection: name.clone(),
                    host: String::new(),
                    reason: "connection_str names no host".into(),
                }
            })?;
        let pool = match seed {
            Some(seed) => pool.with_seed(seed),
            None => pool,
        };
        let budget = ext
            .retry_budget
            .enabled
            .then(|| RetryBudget::new(&ext.retry_budget, Instant::now()));

        // Explicit calls, then the server config, then the settings: see `server_config`.
        let server = server
            .transpose()
            .map_err(|source| ConfigError::ServerConfig {
                connection: name.clone(),
                source,
            })?;
        let below = server.unwrap_or_else(|| KeyFile {
            folder: ext.secrets_location.clone().into(),
            passphrase: ext.auth_passphrase.clone(),
        });
        let file = KeyFile {
            folder: secrets_location.unwrap_or(below.folder),
            passphrase: passphrase.or(below.passphrase),
        };
        let auth = Auth::from_settings(&name, &settings, &caller, client_key, &file)?;
        let signer = match &ext.hmac {
            None => None,
            Some(hmac) => {
                let hmac_error = |reason: &dyn fmt::Display| ConfigError::Hmac {
                    connection: name.clone(),
                    reason: reason.to_string(),
                };
                let secret = Secret::new(hmac.secret.expose()).map_err(|e| hmac_error(&e))?;
                Some(Signer::new(hmac.service_id.clone(), secret).map_err(|e| hmac_error(&e))?)
            }
        };

        let client = match client {
            Some(client) => {
                let not_applied = settings_not_applied(&settings);
                if !not_applied.is_empty() {
                    tracing::warn!(
                        connection = %name,
                        settings = ?not_applied,
                        "the client given replaces the one these settings configure: they are not applied",
                    );
                }
                client
            }
            None => build_client(&name, &settings, configure)?,
        };

        let caller_header =
            HeaderValue::from_str(&caller).map_err(|_| ConfigError::HeaderValue {
                connection: name.clone(),
                what: "the caller's app key",
            })?;
        Ok(Connection {
            inner: Arc::new(Inner {
                caller_header,
                caller,
                target,
                routes_override: settings.routes_override.clone().into_iter().collect(),
                urls: EventUrls::default(),
                pool,
                client,
                answered: Answered::default(),
                policy: RetryPolicy::from(&settings),
                budget,
                attempt_timeout: Duration::from_millis(ext.attempt_timeout_ms),
                idempotent_events: ext.idempotent_events.iter().cloned().collect(),
                auth,
                signer,
                max_body,
                stand_in,
                name,
            }),
        })
    }
}

#[cfg(test)]
mod tests {

    use appwire_manifest::AuthStrategy;

    use super::*;

    fn unsecured(connection_str: &str) -> ConnectionSettings {
        let mut s = ConnectionSettings::new(connection_str);
        s.auth_strategy = AuthStrategy::Unsecured;
        s
    }

    fn build(settings: ConnectionSettings) -> Result<Connection, Error> {
        Connection::builder(
            "target",
            Target::new("simple-example", "0.30"),
            settings,
            "caller.1x0",
        )
        .build()
    }

    #[test]
    fn hosts_lose_one_trailing_slash_and_surrounding_spaces() {
        let c = build(unsecured("http://a:8020/, http://b:8020")).expect("built");
        assert_eq!(c.hosts(), ["http://a:8020", "http://b:8020"]);
    }

    #[test]
    fn bad_hosts_are_configuration_errors() {
        for bad in [
            "a:8020",
            "ftp://a",
            "http://",
            "",
            "http://a,",
            "http://a?x=1",
        ] {
            match build(unsecured(bad)) {
                Err(Error::Config(ConfigError::InvalidHost { connection, .. })) => {
                    assert_eq!(connection, "target");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn routes_follow_the_target_and_its_overrides() {
        let mut s = unsecured("http://a");
        s.routes_override
            .insert("query_something".into(), "custom/route_B".into());
        let c = build(s).expect("built");
        assert_eq!(
            c.route("collector.query_concurrently"),
            "/api/simple-example/0x30/collector/query-concurrently"
        );
        assert_eq!(c.route("query_something"), "/api/custom/route--b");
        let plugin = Target::new("simple-example", "0.30").with_plugin("basic-auth", "0.30");
        assert_eq!(
            plugin.route("login", None),
            "/api/simple-example/0x30/basic-auth/0x30/login"
        );
    }

    #[test]
    fn the_default_strategy_needs_the_callers_key() {
        let mut s = ConnectionSettings::new("http://a");
        s.appwire.secrets_location = "/nonexistent/secrets".into();
        match build(s) {
            Err(Error::Config(ConfigError::ClientKey { source, .. })) => {
                assert!(source.to_string().contains("caller.1x0.pem"), "{source}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hopeits_own_key_layout_is_read_with_the_passphrase() {
        let mut s = ConnectionSettings::new("http://a");
        s.appwire.secrets_location = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys").into();
        let built = Connection::builder("t", Target::new("x", "1"), s.clone(), "test_caller.1x0")
            .auth_passphrase(SecretString::new("appwire-test-passphrase"))
            .build();
        assert!(built.is_ok(), "{built:?}");
        let no_passphrase =
            Connection::builder("t", Target::new("x", "1"), s, "test_caller.1x0").build();
        assert!(matches!(
            no_passphrase,
            Err(Error::Config(ConfigError::ClientKey { .. }))
        ));
    }
}
