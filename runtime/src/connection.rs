//! A connection to one target app: its hosts, settings, HTTP client and auth, shared by every
//! call made through it.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use appwire_manifest::env::{self, Lookup};
use appwire_manifest::naming::{self, RouteTarget};
use appwire_manifest::{
    AppConfig, AppConnection, AuthStrategy, ConnectionSettings, SecretString, SettingsError,
};
use http::HeaderValue;
use reqwest::Url;
use tokio::time::Instant;

use crate::auth::{Auth, ClientKey, TokenSource};
use crate::breaker::BreakerSettings;
use crate::budget::{BudgetSettings, RetryBudget};
use crate::call::EventUrls;
use crate::error::{ConfigError, Error};
use crate::pool::{Balance, HostPool, HostSnapshot};
use crate::retry::RetryPolicy;
use crate::signing::{Secret, Signer};

/// Largest response body read by default: 16 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 16 << 20;

/// The app (and optional plugin) whose event routes a connection calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// App name, e.g. `simple-example`.
    pub name: String,
    /// App version, e.g. `0.30`.
    pub version: String,
    /// `(plugin name, plugin version)` for events an `OnApp` plugin mounts on the app.
    pub plugin: Option<(String, String)>,
}

impl Target {
    /// The app `name` at `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            plugin: None,
        }
    }

    /// The same app, calling events of the plugin `name` at `version`.
    #[must_use]
    pub fn with_plugin(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.plugin = Some((name.into(), version.into()));
        self
    }

    /// hopeit's route of `event`, or of its override, mangled as hopeit mangles both.
    pub fn route(&self, event: &str, override_route: Option<&str>) -> String {
        let target = RouteTarget {
            name: &self.name,
            version: &self.version,
            plugin: self.plugin.as_ref().map(|(n, v)| (n.as_str(), v.as_str())),
        };
        naming::event_route(target, event, override_route)
    }
}

impl From<RouteTarget<'_>> for Target {
    fn from(t: RouteTarget<'_>) -> Self {
        Self {
            name: t.name.to_owned(),
            version: t.version.to_owned(),
            plugin: t.plugin.map(|(n, v)| (n.to_owned(), v.to_owned())),
        }
    }
}

impl From<&AppConnection> for Target {
    fn from(c: &AppConnection) -> Self {
        c.route_target().into()
    }
}

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
/// | `circuit_breaker_*` | each host's [`Breaker`](crate::Breaker), with `appwire.half_open_probes` and `appwire.max_open_seconds` |
/// | `retries`, `retry_backoff_ms` | the [`RetryPolicy`], with `appwire.backoff_max_ms`, `jitter`, `retry_post_on_5xx`, `deadline_ms` |
/// | `ssl` | `false` accepts any server certificate, as aiohttp's `ssl=False` |
/// | `max_connections_per_host` | idle connections kept per host (`0`: no limit); reqwest does not cap connections in use |
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
    pub(crate) target: Target,
    pub(crate) routes_override: HashMap<String, String>,
    pub(crate) urls: EventUrls,
    pub(crate) pool: HostPool,
    pub(crate) client: reqwest::Client,
    pub(crate) policy: RetryPolicy,
    pub(crate) budget: Option<RetryBudget>,
    pub(crate) attempt_timeout: Duration,
    pub(crate) idempotent_events: HashSet<String>,
    pub(crate) auth: Auth,
    pub(crate) signer: Option<Signer>,
    pub(crate) max_body: usize,
}

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
            passphrase: None,
            client_key: None,
            max_body: DEFAULT_MAX_BODY_SIZE,
            seed: None,
        }
    }

    /// Starts the connection `connection` of an app's manifest, as hopeit's apps-client sets
    /// it up: the target from `app_connections`, the settings from its `settings` section, the
    /// caller from the manifest's app.
    ///
    /// `${VAR}`s left in the manifest (one loaded for code generation, without an
    /// environment) are expanded from `env` here; the error names every variable not set.
    pub fn from_config(
        config: &AppConfig,
        connection: &str,
        env: &(impl Lookup + ?Sized),
    ) -> Result<ConnectionBuilder, Error> {
        let conn = config.app_connections.get(connection).ok_or_else(|| {
            settings_error(
                connection,
                SettingsError::UnknownConnection(connection.to_owned()),
            )
        })?;
        let key = conn.settings_key(connection);
        let section = config
            .settings
            .get(key)
            .ok_or_else(|| settings_error(connection, SettingsError::Missing(key.to_owned())))?;
        let text = serde_json::Value::Object(section.clone()).to_string();
        let app = &config.app;
        from_manifest(
            connection,
            conn,
            (&app.name, &app.version),
            Settings::Json { key, text: &text },
            env,
        )
    }

    /// The connection generated code describes: built from the manifest's parts it embeds.
    #[doc(hidden)]
    pub fn from_parts(parts: &Parts, env: &dyn Lookup) -> Result<Self, Error> {
        let settings = Settings::Json {
            key: parts.settings_key,
            text: parts.settings,
        };
        parts.builder(settings, env)?.build()
    }

    /// [`from_parts`](Self::from_parts) with `settings` instead of the manifest's.
    #[doc(hidden)]
    pub fn from_parts_with(
        parts: &Parts,
        settings: ConnectionSettings,
        env: &dyn Lookup,
    ) -> Result<Self, Error> {
        parts
            .builder(Settings::Given(Box::new(settings)), env)?
            .build()
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

/// What generated code embeds of a connection: the manifest's parts it is built from.
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    /// The caller app's name, as written in the manifest.
    pub caller_name: &'static str,
    /// The caller app's version, as written in the manifest.
    pub caller_version: &'static str,
    /// The connection's key.
    pub connection: &'static str,
    /// The `app_connections` entry, as JSON.
    pub target: &'static str,
    /// The key of the connection's settings section.
    pub settings_key: &'static str,
    /// The settings section, as JSON with its `${VAR}`s.
    pub settings: &'static str,
}

impl Parts {
    fn builder(
        &self,
        settings: Settings<'_>,
        env: &dyn Lookup,
    ) -> Result<ConnectionBuilder, Error> {
        let conn: AppConnection = serde_json::from_str(self.target).map_err(|e| {
            settings_error(
                self.connection,
                SettingsError::Invalid {
                    section: self.connection.to_owned(),
                    path: appwire_manifest::JsonPath::from(["app_connections", self.connection]),
                    message: e.to_string(),
                },
            )
        })?;
        from_manifest(
            self.connection,
            &conn,
            (self.caller_name, self.caller_version),
            settings,
            env,
        )
    }
}

/// Where a manifest connection's settings come from.
enum Settings<'a> {
    /// Its section's JSON text, `${VAR}`s not yet expanded.
    Json { key: &'a str, text: &'a str },
    /// Settings given in its place.
    Given(Box<ConnectionSettings>),
}

fn settings_error(connection: &str, source: SettingsError) -> Error {
    match source {
        SettingsError::Env(unset) => ConfigError::MissingEnv {
            connection: connection.to_owned(),
            names: unset.names,
        },
        source => ConfigError::Settings {
            connection: connection.to_owned(),
            source,
        },
    }
    .into()
}

/// A builder for a manifest's connection: settings, target and caller expanded from `env`,
/// every unset variable named in one error.
fn from_manifest(
    connection: &str,
    conn: &AppConnection,
    (caller_name, caller_version): (&str, &str),
    settings: Settings<'_>,
    env: &(impl Lookup + ?Sized),
) -> Result<ConnectionBuilder, Error> {
    // A sized view of `env`, which the manifest's functions take.
    let env = |name: &str| env.get(name);
    let mut unset: Vec<String> = Vec::new();
    let settings = match settings {
        Settings::Given(settings) => Some(*settings),
        Settings::Json { key, text } => match ConnectionSettings::from_json(key, text, &env) {
            Ok(settings) => Some(settings),
            Err(SettingsError::Env(e)) => {
                unset.extend(e.names);
                None
            }
            Err(e) => return Err(settings_error(connection, e)),
        },
    };
    let mut expand = |text: &str| match env::expand(text, &env) {
        Ok(value) => value,
        Err(e) => {
            unset.extend(e.names);
            text.to_owned()
        }
    };
    let mut target = Target::new(expand(&conn.name), expand(&conn.version));
    if let Some(plugin) = &conn.plugin_name {
        let version = conn.plugin_version.as_deref().unwrap_or(&conn.version);
        target = target.with_plugin(expand(plugin), expand(version));
    }
    let caller = naming::app_key(&expand(caller_name), &expand(caller_version));
    match settings {
        Some(settings) if unset.is_empty() => {
            Ok(Connection::builder(connection, target, settings, caller))
        }
        _ => {
            let mut names: Vec<String> = Vec::new();
            for name in unset {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            Err(ConfigError::MissingEnv {
                connection: connection.to_owned(),
                names,
            }
            .into())
        }
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
    passphrase: Option<SecretString>,
    client_key: Option<ClientKey>,
    max_body: usize,
    seed: Option<u64>,
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
    /// configuration then applies: `ssl`, `max_connections_per_host` and
    /// `connect_timeout_ms` are not applied to it.
    pub fn client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// The passphrase of the caller's private key for `CLIENT_APP_PUBLIC_KEY` (hopeit's
    /// server config `auth.auth_passphrase`).
    pub fn auth_passphrase(mut self, passphrase: SecretString) -> Self {
        self.passphrase = Some(passphrase);
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
            passphrase,
            client_key,
            max_body,
            seed,
        } = self;
        let ext = &settings.appwire;

        let hosts = settings
            .hosts()
            .map(|host| check_host(&name, host))
            .collect::<Result<Vec<_>, _>>()?;
        let breaker = BreakerSettings {
            open_failures: settings.circuit_breaker_open_failures,
            failure_reset: Duration::from_secs(settings.circuit_breaker_failure_reset_seconds),
            open_time: Duration::from_secs(settings.circuit_breaker_open_seconds),
            half_open_probes: ext.half_open_probes,
            max_open_time: ext.max_open_seconds.map(Duration::from_secs),
        };
        let balance = match ext.balance {
            appwire_manifest::Balance::RoundRobin => Balance::RoundRobin,
            appwire_manifest::Balance::LeastLoaded => Balance::LeastLoaded,
        };
        let pool =
            HostPool::new(hosts, &breaker, balance).map_err(|_| ConfigError::InvalidHost {
                connection: name.clone(),
                host: String::new(),
                reason: "connection_str names no host".into(),
            })?;
        let pool = match seed {
            Some(seed) => pool.with_seed(seed),
            None => pool,
        };

        let policy = RetryPolicy {
            retries: settings.retries,
            backoff_base: Duration::from_millis(settings.retry_backoff_ms),
            backoff_max: ext.backoff_max_ms.map(Duration::from_millis),
            jitter: ext.jitter,
            retry_non_idempotent_5xx: ext.retry_post_on_5xx,
            deadline: Duration::from_millis(ext.deadline_ms),
        };
        let budget = ext.retry_budget.enabled.then(|| {
            let b = &ext.retry_budget;
            RetryBudget::new(
                &BudgetSettings {
                    ttl: Duration::from_millis(b.ttl_ms),
                    min_per_second: b.min_per_second,
                    retry_ratio: b.percent / 100.0,
                },
                Instant::now(),
            )
        });

        let passphrase = passphrase.or_else(|| settings.appwire.auth_passphrase.clone());
        let auth = auth(&name, &settings, &caller, client_key, passphrase)?;
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
            Some(client) => client,
            None => build_client(&name, &settings)?,
        };

        Ok(Connection {
            inner: Arc::new(Inner {
                caller,
                target,
                routes_override: settings.routes_override.clone().into_iter().collect(),
                urls: EventUrls::default(),
                pool,
                client,
                policy,
                budget,
                attempt_timeout: Duration::from_millis(ext.attempt_timeout_ms),
                idempotent_events: ext.idempotent_events.iter().cloned().collect(),
                auth,
                signer,
                max_body,
                name,
            }),
        })
    }
}

/// A host of `connection_str` as a base URL: surrounding spaces trimmed (hopeit's URL parser
/// tolerates them) and one trailing `/` removed, so that routes do not start with `//`.
fn check_host(connection: &str, host: &str) -> Result<String, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidHost {
        connection: connection.to_owned(),
        host: host.to_owned(),
        reason,
    };
    let trimmed = host.trim();
    let base = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let url = Url::parse(base).map_err(|e| invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https".into()));
    }
    if url.host().is_none() {
        return Err(invalid("no host name".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a host URL takes no query or fragment".into()));
    }
    // Host URLs appear in errors, logs and snapshots: they must not carry credentials (and
    // this error does not repeat them).
    if !url.username().is_empty() || url.password().is_some() {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(ConfigError::InvalidHost {
            connection: connection.to_owned(),
            host: shown.to_string(),
            reason: "credentials in the URL are not supported: use `appwire.bearer_token` or `appwire.hmac`".into(),
        });
    }
    Ok(base.to_owned())
}

fn auth(
    connection: &str,
    settings: &ConnectionSettings,
    caller: &str,
    key: Option<ClientKey>,
    passphrase: Option<SecretString>,
) -> Result<Auth, ConfigError> {
    if let Some(token) = &settings.appwire.bearer_token {
        let mut value =
            HeaderValue::try_from(format!("Bearer {}", token.expose())).map_err(|_| {
                ConfigError::HeaderValue {
                    connection: connection.to_owned(),
                    what: "appwire.bearer_token",
                }
            })?;
        value.set_sensitive(true);
        return Ok(Auth::Bearer(value));
    }
    Ok(match settings.auth_strategy {
        AuthStrategy::Unsecured => Auth::Unsecured,
        AuthStrategy::ForwardContext => Auth::Forward,
        AuthStrategy::ClientAppPublicKey => {
            // Loaded now, as hopeit's client mints its first token when it starts: a missing
            // key fails the start, not the first call.
            let key = match key {
                Some(key) => key,
                None => ClientKey::load(
                    &settings.appwire.secrets_location,
                    caller,
                    passphrase.as_ref().map(|p| p.expose().as_bytes()),
                )
                .map_err(|source| ConfigError::ClientKey {
                    connection: connection.to_owned(),
                    source,
                })?,
            };
            Auth::Token(TokenSource::new(key, caller.to_owned()))
        }
    })
}

/// hopeit's connection defaults, to tell the settings a manifest asked for.
const HOPEIT_MAX_CONNECTIONS: u32 = 100;
const HOPEIT_DNS_CACHE_TTL: u64 = 10;

/// The HTTP client of a connection, configured as hopeit configures its aiohttp connector
/// where reqwest can be.
fn build_client(connection: &str, settings: &ConnectionSettings) -> Result<reqwest::Client, Error> {
    ensure_crypto_provider();
    if settings.max_connections != HOPEIT_MAX_CONNECTIONS {
        tracing::warn!(
            connection,
            max_connections = settings.max_connections,
            "max_connections is not enforced: the HTTP client has no limit on open connections",
        );
    }
    if !matches!(settings.dns_cache_ttl, 0 | HOPEIT_DNS_CACHE_TTL) {
        tracing::warn!(
            connection,
            dns_cache_ttl = settings.dns_cache_ttl,
            "dns_cache_ttl is not applied: names are resolved for each new connection",
        );
    }
    let per_host = match settings.max_connections_per_host {
        0 => usize::MAX,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    // A connect cut off by the attempt timeout would look ambiguous; cut off by the connect
    // timeout it is known never to have been sent, and is retried on the next host.
    let ext = &settings.appwire;
    let connect_timeout = ext.connect_timeout_ms.min(ext.attempt_timeout_ms);
    reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(connect_timeout))
        .pool_max_idle_per_host(per_host)
        .connector_layer(crate::call::NoteOpened)
        .tls_danger_accept_invalid_certs(!settings.ssl)
        // aiohttp, under hopeit, ignores proxy variables unless told otherwise.
        .no_proxy()
        .user_agent(concat!("appwire/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|source| {
            ConfigError::Client {
                connection: connection.to_owned(),
                source,
            }
            .into()
        })
}

/// reqwest is built without a TLS crypto provider of its own; ring is installed as the
/// process default unless the application installed one first.
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race to another thread is fine: a provider is installed either way.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use appwire_manifest::{Expansion, Manifest};

    use super::*;

    #[test]
    fn host_urls_carry_no_credentials() {
        assert!(check_host("c", "http://h:1/").is_ok());
        let err = check_host("c", "http://user:secret@h:1").expect_err("credentials");
        assert!(err.to_string().contains("credentials"), "{err}");
        assert!(!format!("{err} {err:?}").contains("secret"), "{err:?}");
    }

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

    const MANIFEST: &str = r#"{
      "app": {"name": "caller", "version": "1.0"},
      "app_connections": {
        "target": {"name": "target-app", "version": "${HOPEIT_APPS_API_VERSION}",
                   "plugin_name": "${PLUGIN}", "client": "hopeit.apps_client.AppsClient"}
      },
      "settings": {"target": {"connection_str": "${TARGET_HOSTS}", "retries": "${RETRIES}",
                              "auth_strategy": "UNSECURED"}},
      "events": {"call": {"type": "GET", "connections": [
        {"app_connection": "target", "event": "list_items", "type": "GET"}]}}
    }"#;

    #[test]
    fn generated_code_builds_from_the_parts_it_embeds() {
        const PARTS: Parts = Parts {
            caller_name: "client-example",
            caller_version: "${HOPEIT_APPS_API_VERSION}",
            connection: "conn",
            target: r#"{"name":"simple-example","version":"0.30","client":"hopeit.apps_client.AppsClient","settings":null,"plugin_name":null,"plugin_version":null}"#,
            settings_key: "conn",
            settings: r#"{"connection_str":"${HOSTS}","auth_strategy":"UNSECURED","retries":2}"#,
        };
        let env = |name: &str| (name == "HOSTS").then(|| "http://h:1".to_owned());
        let c = Connection::from_parts(&PARTS, &env).expect("built");
        assert_eq!(c.caller_app_key(), "client_example.0x30");
        assert_eq!(c.hosts(), ["http://h:1"]);
        assert_eq!(c.inner.policy.retries, 2);
        assert_eq!(
            c.route("list_somethings"),
            "/api/simple-example/0x30/list-somethings"
        );

        let none = |_: &str| None;
        match Connection::from_parts(&PARTS, &none) {
            Err(Error::Config(ConfigError::MissingEnv { names, .. })) => {
                assert_eq!(names, ["HOSTS"])
            }
            other => panic!("{other:?}"),
        }
        let given = unsecured("http://other:2");
        let c = Connection::from_parts_with(&PARTS, given, &none).expect("settings given");
        assert_eq!(c.hosts(), ["http://other:2"]);
    }

    #[test]
    fn a_manifest_connection_is_expanded_at_run_time() {
        let manifest =
            Manifest::parse("app-config.json", MANIFEST, Expansion::Deferred).expect("valid");
        let env = HashMap::from([
            (
                "TARGET_HOSTS".to_owned(),
                "http://h1:8020,http://h2:8020/".to_owned(),
            ),
            ("RETRIES".to_owned(), "3".to_owned()),
            ("PLUGIN".to_owned(), "basic-auth".to_owned()),
        ]);
        let c = Connection::from_config(manifest.config(), "target", &env)
            .expect("settings")
            .build()
            .expect("built");
        assert_eq!(c.hosts(), ["http://h1:8020", "http://h2:8020"]);
        assert_eq!(c.caller_app_key(), "caller.1x0");
        assert_eq!(c.inner.policy.retries, 3);
        assert_eq!(
            c.route("list_items"),
            "/api/target-app/0x30/basic-auth/0x30/list-items"
        );
    }

    #[test]
    fn every_missing_variable_is_named() {
        let manifest =
            Manifest::parse("app-config.json", MANIFEST, Expansion::Deferred).expect("valid");
        let env = HashMap::from([("PLUGIN".to_owned(), "p".to_owned())]);
        match Connection::from_config(manifest.config(), "target", &env) {
            Err(Error::Config(ConfigError::MissingEnv { connection, names })) => {
                assert_eq!(connection, "target");
                assert_eq!(names, ["TARGET_HOSTS", "RETRIES"]);
            }
            other => panic!("{other:?}"),
        }
        let empty: HashMap<String, String> = HashMap::new();
        match Connection::from_config(manifest.config(), "target", &empty) {
            Err(Error::Config(ConfigError::MissingEnv { names, .. })) => {
                assert_eq!(names, ["TARGET_HOSTS", "RETRIES", "PLUGIN"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Connection::from_config(manifest.config(), "nope", &env),
            Err(Error::Config(ConfigError::Settings { .. }))
        ));
    }
}
