//! The HTTP side of a connection: host URLs checked, and the reqwest client configured as
//! hopeit configures its aiohttp connector where reqwest can be.

use std::time::Duration;

use appwire_manifest::ConnectionSettings;
use reqwest::Url;

use crate::error::{ConfigError, Error};

/// A host of `connection_str` as a base URL: surrounding spaces trimmed (hopeit's URL parser
/// tolerates them) and one trailing `/` removed, so that routes do not start with `//`.
pub(crate) fn check_host(connection: &str, host: &str) -> Result<String, ConfigError> {
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

/// What a connection does to the reqwest client it builds, after its own settings.
pub(crate) type Configure =
    Box<dyn FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send>;

/// The HTTP client of a connection, configured as hopeit configures its aiohttp connector
/// where reqwest can be, then by `configure`.
pub(crate) fn build_client(
    connection: &str,
    settings: &ConnectionSettings,
    configure: Option<Configure>,
) -> Result<reqwest::Client, Error> {
    ensure_crypto_provider();
    // hopeit's defaults, to tell the settings a manifest asked for.
    let hopeit = ConnectionSettings::new("");
    if settings.max_connections != hopeit.max_connections {
        tracing::warn!(
            connection,
            max_connections = settings.max_connections,
            "max_connections is not enforced: the HTTP client has no limit on open connections",
        );
    }
    if settings.dns_cache_ttl != 0 && settings.dns_cache_ttl != hopeit.dns_cache_ttl {
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
    let builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(connect_timeout))
        .pool_max_idle_per_host(per_host)
        // Closed before the server's keep-alive runs out, so that a request is not sent on a
        // connection the server is closing.
        .pool_idle_timeout(Duration::from_millis(ext.pool_idle_timeout_ms))
        .tls_danger_accept_invalid_certs(!settings.ssl)
        // aiohttp, under hopeit, ignores proxy variables unless told otherwise.
        .no_proxy()
        .user_agent(concat!("appwire/", env!("CARGO_PKG_VERSION")));
    let builder = match configure {
        Some(configure) => configure(builder),
        None => builder,
    };
    builder.build().map_err(|source| {
        ConfigError::Client {
            connection: connection.to_owned(),
            source,
        }
        .into()
    })
}

/// The settings a client given in place of the connection's own does not follow, where they
/// differ from their defaults (and so something asked for is lost).
pub(crate) fn settings_not_applied(settings: &ConnectionSettings) -> Vec<&'static str> {
    let defaults = ConnectionSettings::new("");
    let (ext, default_ext) = (&settings.appwire, &defaults.appwire);
    [
        ("ssl", settings.ssl != defaults.ssl),
        (
            "max_connections_per_host",
            settings.max_connections_per_host != defaults.max_connections_per_host,
        ),
        (
            "appwire.connect_timeout_ms",
            ext.connect_timeout_ms != default_ext.connect_timeout_ms,
        ),
        (
            "appwire.pool_idle_timeout_ms",
            ext.pool_idle_timeout_ms != default_ext.pool_idle_timeout_ms,
        ),
    ]
    .into_iter()
    .filter_map(|(name, differs)| differs.then_some(name))
    .collect()
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
    use super::*;

    #[test]
    fn host_urls_carry_no_credentials() {
        assert!(check_host("c", "http://h:1/").is_ok());
        let err = check_host("c", "http://user:secret@h:1").expect_err("credentials");
        assert!(err.to_string().contains("credentials"), "{err}");
        assert!(!format!("{err} {err:?}").contains("secret"), "{err:?}");
    }
}
