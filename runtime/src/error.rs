//! The one error type of a call, and the parts it is made of.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use appwire_manifest::SettingsError;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use tokio::time::Instant;

use crate::auth::{AuthError, KeyError};

/// Everything that can go wrong when a connection is built or a call is made.
///
/// Each variant is one cause. [`status`](Self::status) gives the HTTP status behind an error,
/// [`is_retryable`](Self::is_retryable) whether the same call may succeed later, and
/// [`source`](std::error::Error::source) leads from a summary such as
/// [`RetriesExhausted`](Self::RetriesExhausted) to the error of the last attempt.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection cannot be built as configured.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Every host's circuit breaker is open, or all half-open probe slots are taken.
    #[error("connection `{connection}`: no healthy host{}", ReopensIn(*.reopens_at))]
    NoHealthyHost {
        /// The connection's name.
        connection: String,
        /// When the first host becomes half-open again; `None` when every host already is
        /// and all their probe slots are taken.
        reopens_at: Option<Instant>,
    },
    /// One attempt took longer than the attempt timeout.
    #[error("attempt on {host} timed out after {timeout:?}")]
    AttemptTimeout {
        /// Base URL of the host.
        host: String,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// The call's total deadline, backoff included, ran out.
    #[error("deadline of {deadline:?} exceeded after {attempts} attempt(s)")]
    DeadlineExceeded {
        /// The call's deadline.
        deadline: Duration,
        /// Attempts made.
        attempts: u32,
        /// Error of the last attempt, if one ended.
        #[source]
        last: Option<Box<Error>>,
    },
    /// Every attempt failed in a retryable way.
    #[error("gave up after {attempts} attempt(s)")]
    RetriesExhausted {
        /// Attempts made, `retries + 1`.
        attempts: u32,
        /// Error of the last attempt.
        #[source]
        last: Box<Error>,
    },
    /// The connection's retry budget is spent: the call fails with its last real error
    /// instead of adding load.
    #[error("retry budget exhausted after {attempts} attempt(s)")]
    BudgetExhausted {
        /// Attempts made.
        attempts: u32,
        /// Error of the last attempt.
        #[source]
        last: Box<Error>,
    },
    /// The request could not be sent, or its response could not be read.
    #[error("{kind} on {host}")]
    Transport {
        /// Base URL of the host.
        host: String,
        /// Whether the request may have reached the server.
        kind: TransportKind,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The target answered 401 and the call did not declare it.
    #[error("unauthorized: {0}")]
    Unauthorized(Box<ErrorResponse>),
    /// The target answered with a status that is neither 2xx nor declared.
    #[error("error response: {0}")]
    Status(Box<ErrorResponse>),
    /// The body is not the JSON that was expected.
    #[error("cannot decode the response body (status {status})")]
    Decode {
        /// Status of the response.
        status: StatusCode,
        /// The body, as received.
        body: Bytes,
        /// What the decoder found.
        #[source]
        source: serde_json::Error,
    },
    /// The body has a content type the decoder cannot read.
    #[error("unexpected content type `{content_type}` (status {status})")]
    ContentType {
        /// Status of the response.
        status: StatusCode,
        /// The `content-type` received.
        content_type: String,
        /// The body, as received.
        body: Bytes,
    },
    /// The response body is larger than the connection accepts.
    #[error("response body from {host} exceeds {limit} bytes")]
    BodyTooLarge {
        /// Base URL of the host.
        host: String,
        /// The connection's limit.
        limit: usize,
    },
    /// The call cannot be authenticated.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The request cannot be encoded: a body that does not serialize, a header that is not
    /// valid.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

impl Error {
    /// The HTTP status behind this error: the response's, or the last attempt's.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Unauthorized(r) | Self::Status(r) => Some(r.status),
            Self::Decode { status, .. } | Self::ContentType { status, .. } => Some(*status),
            Self::RetriesExhausted { last, .. } | Self::BudgetExhausted { last, .. } => {
                last.status()
            }
            Self::DeadlineExceeded { last, .. } => last.as_ref().and_then(|e| e.status()),
            _ => None,
        }
    }

    /// Whether the same call may succeed if made again later: the target was unreachable,
    /// slow, overloaded or failing, as opposed to a call that is wrong or unauthorized.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::NoHealthyHost { .. }
            | Self::AttemptTimeout { .. }
            | Self::DeadlineExceeded { .. }
            | Self::RetriesExhausted { .. }
            | Self::BudgetExhausted { .. }
            | Self::Transport { .. } => true,
            Self::Status(r) => r.status.is_server_error() || matches!(r.status.as_u16(), 408 | 429),
            _ => false,
        }
    }

    /// For [`NoHealthyHost`](Self::NoHealthyHost): how long until the first host re-opens.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::NoHealthyHost {
                reopens_at: Some(at),
                ..
            } => Some(at.saturating_duration_since(Instant::now())),
            _ => None,
        }
    }

    /// The error response behind this error, if there is one (also behind a retry summary).
    pub fn response(&self) -> Option<&ErrorResponse> {
        match self {
            Self::Unauthorized(r) | Self::Status(r) => Some(r),
            Self::RetriesExhausted { last, .. } | Self::BudgetExhausted { last, .. } => {
                last.response()
            }
            Self::DeadlineExceeded { last, .. } => last.as_deref().and_then(Self::response),
            _ => None,
        }
    }
}

/// Formats "; the first host re-opens in 1.5s".
struct ReopensIn(Option<Instant>);

impl fmt::Display for ReopensIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(at) => write!(
                f,
                "; the first host re-opens in {:?}",
                at.saturating_duration_since(Instant::now())
            ),
            None => f.write_str("; every half-open host is busy with its probes"),
        }
    }
}

/// Whether a failed request may have reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// It provably did not: connection refused, DNS or TLS failure, connect timeout.
    NotSent,
    /// It may have: the connection broke after the request was written, or the response was
    /// cut short.
    Ambiguous,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotSent => "cannot connect",
            Self::Ambiguous => "connection failed mid-request",
        })
    }
}

/// hopeit's error body, `{"msg": .., "tb": [..]}`, which it sends as `text/plain`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct ErrorInfo {
    /// The error message.
    pub msg: String,
    /// The server-side traceback, when the server sends one.
    #[serde(default)]
    pub tb: Vec<String>,
}

impl ErrorInfo {
    /// Parses hopeit's error body, whatever its content type says.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }
}

/// A response the call did not expect: its status, headers and body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ErrorResponse {
    /// Base URL of the host that answered.
    pub host: String,
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, as received.
    pub body: Bytes,
    /// Whether [`body`](Self::body) is only the start of the body: the rest was over the
    /// connection's body limit, or was cut short, and was not read.
    pub truncated: bool,
    /// The body parsed as hopeit's [`ErrorInfo`], when it is one.
    pub info: Option<ErrorInfo>,
}

impl ErrorResponse {
    pub(crate) fn new(host: &str, status: StatusCode, headers: HeaderMap, body: Bytes) -> Self {
        let info = ErrorInfo::parse(&body);
        Self {
            host: host.to_owned(),
            status,
            headers,
            body,
            truncated: false,
            info,
        }
    }

    /// The body as text, invalid UTF-8 replaced.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// Longest part of a body shown in an error message.
const SHOWN_BODY: usize = 200;

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} from {}", self.status, self.host)?;
        if let Some(info) = &self.info {
            return write!(f, ": {}", info.msg);
        }
        let text = self.text();
        let text = text.trim();
        if text.is_empty() {
            return Ok(());
        }
        match text.char_indices().nth(SHOWN_BODY) {
            Some((cut, _)) => write!(f, ": {}…", &text[..cut]),
            None => write!(f, ": {text}"),
        }
    }
}

/// Why a connection cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Environment variables the connection's settings use are not set.
    #[error("connection `{connection}`: environment variable{} not set: {}",
        if names.len() == 1 { "" } else { "s" }, names.join(", "))]
    MissingEnv {
        /// The connection's name.
        connection: String,
        /// Every unset variable, upper-cased as it was looked up.
        names: Vec<String>,
    },
    /// The connection or its settings are missing or wrong in the manifest.
    #[error("connection `{connection}`: {source}")]
    Settings {
        /// The connection's name.
        connection: String,
        /// What the manifest reader found.
        #[source]
        source: SettingsError,
    },
    /// A host in `connection_str` is not an `http://` or `https://` URL.
    #[error("connection `{connection}`: invalid host `{host}`: {reason}")]
    InvalidHost {
        /// The connection's name.
        connection: String,
        /// The host as configured.
        host: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `appwire.hmac` settings are not usable.
    #[error("connection `{connection}`: HMAC signing: {reason}")]
    Hmac {
        /// The connection's name.
        connection: String,
        /// What is wrong.
        reason: String,
    },
    /// The caller's private key for `CLIENT_APP_PUBLIC_KEY` cannot be used.
    #[error("connection `{connection}`: client app key")]
    ClientKey {
        /// The connection's name.
        connection: String,
        /// Why the key cannot be used.
        #[source]
        source: KeyError,
    },
    /// A token or header value from the settings is not a valid header value.
    #[error("connection `{connection}`: {what} is not a valid header value")]
    HeaderValue {
        /// The connection's name.
        connection: String,
        /// Which setting.
        what: &'static str,
    },
    /// The HTTP client cannot be built.
    #[error("connection `{connection}`: cannot build the HTTP client")]
    Client {
        /// The connection's name.
        connection: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &'static str) -> ErrorResponse {
        ErrorResponse::new(
            "http://h",
            StatusCode::from_u16(status).expect("status"),
            HeaderMap::new(),
            Bytes::from_static(body.as_bytes()),
        )
    }

    #[test]
    fn hopeit_error_bodies_are_parsed() {
        let r = response(500, r#"{"msg": "boom", "tb": ["a", "b"]}"#);
        assert_eq!(
            r.info,
            Some(ErrorInfo {
                msg: "boom".into(),
                tb: vec!["a".into(), "b".into()]
            })
        );
        assert_eq!(
            r.to_string(),
            "500 Internal Server Error from http://h: boom"
        );
        assert_eq!(response(400, "not json").info, None);
    }

    #[test]
    fn long_bodies_are_cut_in_messages() {
        let body: &'static str = Box::leak("é".repeat(1000).into_boxed_str());
        let shown = response(502, body).to_string();
        assert!(shown.ends_with('…'), "{shown}");
        assert!(shown.chars().count() < 300, "{shown}");
    }

    #[test]
    fn status_and_retryability_see_through_summaries() {
        let last = Error::Status(Box::new(response(503, "")));
        assert!(last.is_retryable());
        let summary = Error::RetriesExhausted {
            attempts: 2,
            last: Box::new(last),
        };
        assert_eq!(summary.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert!(summary.response().is_some());
        assert!(std::error::Error::source(&summary).is_some());
        assert!(!Error::Status(Box::new(response(404, ""))).is_retryable());
        assert!(Error::Status(Box::new(response(429, ""))).is_retryable());
        assert!(!Error::Unauthorized(Box::new(response(401, ""))).is_retryable());
    }

    #[test]
    fn config_errors_name_every_missing_variable() {
        let e = ConfigError::MissingEnv {
            connection: "target".into(),
            names: vec!["HOSTS".into(), "SECRET".into()],
        };
        assert_eq!(
            e.to_string(),
            "connection `target`: environment variables not set: HOSTS, SECRET"
        );
    }
}
