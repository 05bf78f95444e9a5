//! How a connection authenticates each attempt.
//!
//! The strategies are hopeit's `auth_strategy`, plus appwire's static bearer token:
//!
//! | setting | `Authorization` sent |
//! |---|---|
//! | `UNSECURED` | none |
//! | `FORWARD_CONTEXT` | the incoming request's, carried by the [`CallContext`] |
//! | `CLIENT_APP_PUBLIC_KEY` (the default) | `Bearer <RS256 JWT>` signed with the caller's [`ClientKey`], renewed every 50 s |
//! | `appwire.bearer_token` (wins over the above) | `Bearer <token>` |
//!
//! `CLIENT_APP_PUBLIC_KEY` reads the caller's key where hopeit keeps it,
//! `<secrets_location>/.private/<caller app key>.pem`, encrypted with a passphrase. The folder
//! and passphrase come from explicit [`ConnectionBuilder`](crate::ConnectionBuilder) calls,
//! else from the hopeit server config the caller runs with
//! ([`server_config`](crate::ConnectionBuilder::server_config), [`read_server_config`]), else
//! from the settings' `appwire.secrets_location` and `appwire.auth_passphrase`.
//!
//! HMAC signing (`appwire.hmac`) is independent of these and adds its own headers.

mod key;
mod server;

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use appwire_manifest::{AuthStrategy, ConnectionSettings, SecretString, ServerConfig};
use http::HeaderValue;

pub use key::{ClientKey, KeyError, TOKEN_LIFETIME_SECS};
pub use server::{ServerConfigError, read_server_config};

use crate::context::CallContext;
use crate::error::ConfigError;

/// A cached token is replaced this many seconds after it was issued (hopeit's `renew=50`),
/// ten seconds before it expires.
pub const TOKEN_RENEW_SECS: u64 = 50;

/// Why a call cannot be authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// `FORWARD_CONTEXT` needs the incoming `Authorization`, and the call context has none.
    #[error("FORWARD_CONTEXT: the call context carries no Authorization to forward")]
    NothingToForward,
    /// The `Authorization` to forward is not a valid header value.
    #[error("FORWARD_CONTEXT: the Authorization to forward is not a valid header value")]
    InvalidForwarded,
    /// Signing the access token failed.
    #[error("cannot sign the access token")]
    Signing,
}

/// Where `CLIENT_APP_PUBLIC_KEY` reads the caller's key from, unless a key is given:
/// `<folder>/.private/<caller app key>.pem`, decrypted with the passphrase.
#[derive(Debug)]
pub(crate) struct KeyFile {
    pub(crate) folder: PathBuf,
    pub(crate) passphrase: Option<SecretString>,
}

impl From<&ServerConfig> for KeyFile {
    /// `auth.secrets_location` and `auth.auth_passphrase`, an empty passphrase being none.
    fn from(config: &ServerConfig) -> Self {
        let auth = &config.auth;
        Self {
            folder: PathBuf::from(&auth.secrets_location),
            passphrase: (!auth.auth_passphrase.is_empty())
                .then(|| SecretString::new(auth.auth_passphrase.clone())),
        }
    }
}

/// The strategy of one connection, ready to produce headers.
#[derive(Debug)]
pub(crate) enum Auth {
    Unsecured,
    Forward,
    Token(TokenSource),
    Bearer(HeaderValue),
}

impl Auth {
    /// The strategy `settings` ask for: `appwire.bearer_token` over hopeit's `auth_strategy`.
    /// `CLIENT_APP_PUBLIC_KEY` loads the caller's key now, as hopeit's client mints its first
    /// token when it starts: a missing key fails the start, not the first call.
    pub(crate) fn from_settings(
        connection: &str,
        settings: &ConnectionSettings,
        caller: &str,
        key: Option<ClientKey>,
        file: &KeyFile,
    ) -> Result<Self, ConfigError> {
        if let Some(token) = &settings.appwire.bearer_token {
            return bearer(token.expose()).map(Self::Bearer).map_err(|_| {
                ConfigError::HeaderValue {
                    connection: connection.to_owned(),
                    what: "appwire.bearer_token",
                }
            });
        }
        Ok(match settings.auth_strategy {
            AuthStrategy::Unsecured => Self::Unsecured,
            AuthStrategy::ForwardContext => Self::Forward,
            AuthStrategy::ClientAppPublicKey => {
                let key = match key {
                    Some(key) => key,
                    None => ClientKey::load(
                        &file.folder,
                        caller,
                        file.passphrase.as_ref().map(|p| p.expose().as_bytes()),
                    )
                    .map_err(|source| ConfigError::ClientKey {
                        connection: connection.to_owned(),
                        path: ClientKey::path(&file.folder, caller),
                        source,
                    })?,
                };
                Self::Token(TokenSource::new(key, caller.to_owned()))
            }
        })
    }

    /// The `Authorization` of one attempt, or none.
    pub(crate) fn header(&self, context: &CallContext) -> Result<Option<HeaderValue>, AuthError> {
        match self {
            Self::Unsecured => Ok(None),
            Self::Forward => {
                let value = context.authorization().ok_or(AuthError::NothingToForward)?;
                let mut value =
                    HeaderValue::from_str(value).map_err(|_| AuthError::InvalidForwarded)?;
                value.set_sensitive(true);
                Ok(Some(value))
            }
            Self::Token(source) => source.header(unix_now()).map(Some),
            Self::Bearer(value) => Ok(Some(value.clone())),
        }
    }
}

/// `Bearer <token>`, marked sensitive so that it stays out of debug output.
fn bearer(token: &str) -> Result<HeaderValue, http::header::InvalidHeaderValue> {
    let mut value = HeaderValue::try_from(format!("Bearer {token}"))?;
    value.set_sensitive(true);
    Ok(value)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `Bearer <JWT>` headers for one caller app, each reused until it is due for renewal.
pub(crate) struct TokenSource {
    key: ClientKey,
    app_key: String,
    cached: Mutex<Option<(u64, HeaderValue)>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("app_key", &self.app_key)
            .finish_non_exhaustive()
    }
}

impl TokenSource {
    pub(crate) fn new(key: ClientKey, app_key: String) -> Self {
        Self {
            key,
            app_key,
            cached: Mutex::new(None),
        }
    }

    /// The header at wall-clock second `now`: the cached one, or a new token when the cached
    /// one is 50 s old (or from the future, after the clock was set back).
    pub(crate) fn header(&self, now: u64) -> Result<HeaderValue, AuthError> {
        // The cache is a plain value; a panic elsewhere cannot leave it half-written.
        let mut cached = self.cached.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((issued, value)) = cached.as_ref()
            && now >= *issued
            && now < issued.saturating_add(TOKEN_RENEW_SECS)
        {
            return Ok(value.clone());
        }
        let token = self.key.token(&self.app_key, now)?;
        let value = bearer(&token).map_err(|_| AuthError::Signing)?;
        *cached = Some((now, value.clone()));
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS8: &[u8] = include_bytes!("../../tests/keys/formats/pkcs8.pem");

    fn source() -> TokenSource {
        TokenSource::new(
            ClientKey::from_pem(PKCS8, None).expect("key"),
            "caller.1x0".into(),
        )
    }

    #[test]
    fn a_token_is_reused_until_fifty_seconds_after_it_was_issued() {
        let s = source();
        let t0 = 1_700_000_000;
        let first = s.header(t0).expect("token");
        assert!(first.is_sensitive());
        assert!(first.to_str().expect("ascii").starts_with("Bearer ey"));
        assert_eq!(s.header(t0 + 49).expect("token"), first);
        let renewed = s.header(t0 + 50).expect("token");
        assert_ne!(renewed, first);
        assert_eq!(s.header(t0 + 99).expect("token"), renewed);
        // A clock set back gets a token issued at its own time.
        assert_ne!(s.header(t0).expect("token"), renewed);
    }

    #[test]
    fn forwarding_needs_an_authorization_in_the_context() {
        let context = CallContext::new();
        assert_eq!(
            Auth::Forward.header(&context),
            Err(AuthError::NothingToForward)
        );
        let context = context.with_authorization("Basic dXNlcjpwYXNz");
        let value = Auth::Forward
            .header(&context)
            .expect("forwarded")
            .expect("a header");
        assert_eq!(value, "Basic dXNlcjpwYXNz");
        assert!(value.is_sensitive());
        let context = CallContext::new().with_authorization("Basic \n");
        assert_eq!(
            Auth::Forward.header(&context),
            Err(AuthError::InvalidForwarded)
        );
        assert_eq!(Auth::Unsecured.header(&context), Ok(None));
    }
}
