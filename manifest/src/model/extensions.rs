use std::fmt;

use serde::{Deserialize, Serialize, Serializer};

/// A secret setting (an HMAC key, a token): kept out of `Debug` output.
// Also kept out of serialized settings (see `Serialize`); this doc is the schema's description.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// What stands for a secret in `Debug` output and serialized settings.
    pub const REDACTED: &'static str = "<redacted>";

    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself; never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::REDACTED)
    }
}

/// Serializes as [`SecretString::REDACTED`], never the secret: serialized settings end up in
/// logs, dumps and reports. A secret is read from the manifest (usually `${SOME_SECRET}`), so
/// settings read back from their serialized form need it set again.
impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(Self::REDACTED)
    }
}

/// How a connection picks the host of each attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// hopeit's round robin: hosts in `connection_str` order, one step per attempt.
    #[default]
    RoundRobin,
    /// Power of two choices: the less loaded of two random hosts.
    LeastLoaded,
}

/// HMAC-SHA256 request signing of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HmacSettings {
    /// The caller's service id, sent with each request and covered by the signature.
    pub service_id: String,
    /// The shared key, as a `${SOME_SECRET}` reference: generated code embeds the settings as
    /// written, so code generation refuses a key written out.
    pub secret: SecretString,
}

/// The retry budget of a connection: retries may add at most `percent` % to the calls made in
/// the last `ttl_ms`, plus `min_per_second` retries each second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct RetryBudgetSettings {
    /// Whether the budget limits retries.
    #[serde(deserialize_with = "crate::lax::boolean")]
    pub enabled: bool,
    /// Window the budget remembers calls for, in milliseconds.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub ttl_ms: u64,
    /// Retries always allowed per second.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub min_per_second: u32,
    /// Retries allowed as a percentage of calls.
    #[serde(deserialize_with = "crate::lax::float")]
    pub percent: f64,
}

impl Default for RetryBudgetSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            ttl_ms: 10_000,
            min_per_second: 10,
            percent: 20.0,
        }
    }
}

/// appwire's own settings of a connection, under the `appwire` key of its settings section
/// (hopeit ignores the key). Every field has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ConnectionExtensions {
    /// Time allowed to open a connection to a host, in milliseconds (at least 1).
    #[serde(deserialize_with = "crate::lax::positive")]
    pub connect_timeout_ms: u64,
    /// Time allowed for one attempt, response body included, in milliseconds. The default is
    /// just above hopeit's server-side `response_timeout` (60 s), so that a slow event answers
    /// with the server's own timeout first. At least 1.
    #[serde(deserialize_with = "crate::lax::positive")]
    pub attempt_timeout_ms: u64,
    /// Time allowed for a whole call, retries and backoff included, in milliseconds (hopeit's
    /// apps-client: 300 s). At least 1.
    #[serde(deserialize_with = "crate::lax::positive")]
    pub deadline_ms: u64,
    /// Time an idle pooled connection is kept for reuse, in milliseconds (at least 1). The
    /// default is below the 75 s keep-alive of aiohttp (so of hopeit servers) and nginx, and the
    /// 60 s idle timeout of common load balancers: a request sent on a connection the server is
    /// closing fails with no way to know whether it was received, so the client must give a
    /// connection up before the server does.
    #[serde(deserialize_with = "crate::lax::positive")]
    pub pool_idle_timeout_ms: u64,
    /// Longest backoff between attempts, in milliseconds; ten times `retry_backoff_ms` when
    /// absent.
    #[serde(deserialize_with = "crate::lax::opt_uint")]
    pub backoff_max_ms: Option<u64>,
    /// Randomize backoff ("full jitter") so that callers do not retry in step.
    #[serde(deserialize_with = "crate::lax::boolean")]
    pub jitter: bool,
    /// Retry a POST answered with a 5xx status, as hopeit does. Events in `idempotent_events`
    /// are retried either way.
    #[serde(deserialize_with = "crate::lax::boolean")]
    pub retry_post_on_5xx: bool,
    /// Target events that are safe to repeat: an attempt that may have reached the server
    /// (a timeout, a connection reset) is retried for them as for GET.
    pub idempotent_events: Vec<String>,
    /// Shared retry budget.
    pub retry_budget: RetryBudgetSettings,
    /// Attempts let through at once by a half-open breaker.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub half_open_probes: u32,
    /// Longest time a breaker stays open, in seconds: each consecutive opening lasts
    /// `circuit_breaker_open_seconds` longer, up to this; ten times that when absent.
    #[serde(deserialize_with = "crate::lax::opt_uint")]
    pub max_open_seconds: Option<u64>,
    /// How hosts are picked.
    pub balance: Balance,
    /// Sign requests with HMAC-SHA256.
    pub hmac: Option<HmacSettings>,
    /// Send `Authorization: Bearer <token>` with this static token instead of hopeit's
    /// `auth_strategy`; a `${SOME_SECRET}` reference, as `hmac.secret`.
    pub bearer_token: Option<SecretString>,
    /// Folder of the caller's keys for `CLIENT_APP_PUBLIC_KEY`
    /// (`<folder>/.private/<app_key>.pem`); hopeit takes it from its server config.
    pub secrets_location: String,
    /// Passphrase of the caller's private key (hopeit's server config
    /// `auth.auth_passphrase`); a `${SOME_SECRET}` reference, as `hmac.secret`.
    pub auth_passphrase: Option<SecretString>,
}

impl Default for ConnectionExtensions {
    fn default() -> Self {
        Self {
            connect_timeout_ms: 10_000,
            attempt_timeout_ms: 70_000,
            deadline_ms: 300_000,
            pool_idle_timeout_ms: 50_000,
            backoff_max_ms: None,
            jitter: true,
            retry_post_on_5xx: true,
            idempotent_events: Vec::new(),
            retry_budget: RetryBudgetSettings::default(),
            half_open_probes: 1,
            max_open_seconds: None,
            balance: Balance::default(),
            hmac: None,
            bearer_token: None,
            secrets_location: ".secrets/".to_owned(),
            auth_passphrase: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::ConnectionSettings;

    #[test]
    fn extensions_live_under_their_own_key_with_defaults() {
        let section = json!({
            "connection_str": "http://h:1",
            "appwire": {
                "attempt_timeout_ms": "2000",
                "balance": "least_loaded",
                "retry_budget": {"percent": 10},
                "hmac": {"service_id": "caller", "secret": "s3cr3t-value"},
                "max_open_seconds": null
            }
        });
        let map = section.as_object().cloned().unwrap_or_default();
        let settings = ConnectionSettings::from_section("t", &map).unwrap();
        let ext = &settings.appwire;
        assert_eq!(ext.attempt_timeout_ms, 2000);
        assert_eq!(ext.deadline_ms, 300_000);
        assert_eq!(ext.pool_idle_timeout_ms, 50_000);
        assert_eq!(ext.balance, super::Balance::LeastLoaded);
        assert_eq!(ext.retry_budget.percent, 10.0);
        assert_eq!(ext.retry_budget.ttl_ms, 10_000);
        assert_eq!(ext.max_open_seconds, None);
        let debug = format!("{settings:?}");
        assert!(!debug.contains("s3cr3t-value"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn durations_of_zero_are_refused() {
        for key in [
            "connect_timeout_ms",
            "attempt_timeout_ms",
            "deadline_ms",
            "pool_idle_timeout_ms",
        ] {
            let section = json!({"connection_str": "http://h:1", "appwire": {key: 0}});
            let map = section.as_object().cloned().unwrap_or_default();
            let err = ConnectionSettings::from_section("t", &map).expect_err(key);
            assert!(err.to_string().contains("at least 1"), "{key}: {err}");
        }
    }

    #[test]
    fn pool_idle_timeout_is_a_lax_uint() {
        let section =
            json!({"connection_str": "http://h:1", "appwire": {"pool_idle_timeout_ms": "30000"}});
        let map = section.as_object().cloned().unwrap_or_default();
        let settings = ConnectionSettings::from_section("t", &map).unwrap();
        assert_eq!(settings.appwire.pool_idle_timeout_ms, 30_000);
        let section =
            json!({"connection_str": "http://h:1", "appwire": {"pool_idle_timeout_ms": -1}});
        let map = section.as_object().cloned().unwrap_or_default();
        assert!(ConnectionSettings::from_section("t", &map).is_err());
    }

    #[test]
    fn secrets_do_not_serialize() {
        let section = json!({
            "connection_str": "http://h:1",
            "appwire": {
                "hmac": {"service_id": "caller", "secret": "hmac-secret-value"},
                "bearer_token": "bearer-token-value",
                "auth_passphrase": "passphrase-value"
            }
        });
        let map = section.as_object().cloned().unwrap_or_default();
        let settings = ConnectionSettings::from_section("t", &map).unwrap();
        assert_eq!(
            settings.appwire.bearer_token.as_ref().map(|s| s.expose()),
            Some("bearer-token-value")
        );
        let text = serde_json::to_string(&settings).unwrap();
        for secret in [
            "hmac-secret-value",
            "bearer-token-value",
            "passphrase-value",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        let value = serde_json::to_value(&settings).unwrap();
        let ext = &value["appwire"];
        assert_eq!(
            ext["hmac"],
            json!({"service_id": "caller", "secret": "<redacted>"})
        );
        assert_eq!(ext["bearer_token"], "<redacted>");
        assert_eq!(ext["auth_passphrase"], "<redacted>");
    }

    #[test]
    fn plain_hopeit_settings_serialize_without_the_extension_key() {
        let value = serde_json::to_value(ConnectionSettings::new("http://h:1")).unwrap();
        assert!(value.get("appwire").is_none(), "{value}");
    }
}
