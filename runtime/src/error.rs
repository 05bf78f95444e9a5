//! The one error type of a call, and the parts it is made of.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use appwire_manifest::SettingsError;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use serde::Deserialize;
use tokio::time::Instant;

use crate::auth::{AuthError, KeyError, ServerConfigError};

/// Everything that can go wrong when a connection is built or a call is made.
///
/// Each variant is one cause. [`status`](Self::status) gives the HTTP status behind an error,
/// [`is_retryable`](Self::is_retryable) whether the same call may succeed later, and
/// [`last_attempt`](Self::last_attempt) leads from a summary such as
/// [`RetriesExhausted`](Self::RetriesExhausted) to the error of the last attempt.
///
/// The message says why, down to the first cause: "gave up after 3 attempt(s): last: 503
/// Service Unavailable from http://h:8020: the index is rebuilding", "connection `target`:
/// cannot read the client app key `.secrets/.private/caller.1x0.pem`: No such file or directory
/// (os error 2)". [`source`](std::error::Error::source) is therefore `None`, so that reporters
/// that walk the chain (anyhow, miette) do not print a cause twice.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The connection cannot be built as configured.
    Config(ConfigError),
    /// Every host's circuit breaker is open, or all half-open probe slots are taken.
    NoHealthyHost {
        /// The connection's name.
        connection: String,
        /// When the first host becomes half-open again; `None` when every host already is
        /// and all their probe slots are taken.
        reopens_at: Option<Instant>,
    },
    /// One attempt took longer than the attempt timeout.
    AttemptTimeout {
        /// Base URL of the host.
        host: String,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// The call's total deadline, backoff included, ran out.
    DeadlineExceeded {
        /// The call's deadline.
        deadline: Duration,
        /// Attempts made.
        attempts: u32,
        /// Error of the last attempt, if one ended.
        last: Option<Box<Error>>,
    },
    /// Every attempt failed in a retryable way.
    RetriesExhausted {
        /// Attempts made, `retries + 1`.
        attempts: u32,
        /// Error of the last attempt.
        last: Box<Error>,
    },
    /// The connection's retry budget is spent: the call fails with its last real error
    /// instead of adding load.
    BudgetExhausted {
        /// Attempts made.
        attempts: u32,
        /// Error of the last attempt.
        last: Box<Error>,
    },
    /// The request could not be sent, or its response could not be read.
    Transport {
        /// Base URL of the host.
        host: String,
        /// Whether the request may have reached the server.
        kind: TransportKind,
        /// The HTTP client's error.
        source: reqwest::Error,
    },
    /// The target answered 401 and the call did not declare it.
    Unauthorized(Box<ErrorResponse>),
    /// The target answered with a status that is neither 2xx nor declared.
    Status(Box<ErrorResponse>),
    /// The body is not the JSON that was expected.
    Decode {
        /// Status of the response.
        status: StatusCode,
        /// The body, as received.
        body: Bytes,
        /// What the decoder found.
        source: serde_json::Error,
    },
    /// The body has a content type the decoder cannot read.
    ContentType {
        /// Status of the response.
        status: StatusCode,
        /// The `content-type` received.
        content_type: String,
        /// The body, as received.
        body: Bytes,
    },
    /// The response body is larger than the connection accepts.
    BodyTooLarge {
        /// Base URL of the host.
        host: String,
        /// The connection's limit.
        limit: usize,
    },
    /// The call cannot be authenticated.
    Auth(AuthError),
    /// The request cannot be encoded: a body that does not serialize, a header that is not
    /// valid.
    InvalidRequest(String),
    /// The message broker failed or refused a command (with the `streams` feature).
    #[cfg(feature = "streams")]
    Broker(crate::messages::BrokerError),
    /// A stream message cannot be encoded or decoded (with the `streams` feature).
    #[cfg(feature = "streams")]
    Message(crate::messages::CodecError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(e) => e.fmt(f),
            Self::NoHealthyHost {
                connection,
                reopens_at,
            } => write!(
                f,
                "connection `{connection}`: no healthy host{}",
                ReopensIn(*reopens_at)
            ),
            Self::AttemptTimeout { host, timeout } => {
                write!(f, "attempt on {host} timed out after {timeout:?}")
            }
            Self::DeadlineExceeded {
                deadline,
                attempts,
                last,
            } => {
                write!(
                    f,
                    "deadline of {deadline:?} exceeded after {attempts} attempt(s)"
                )?;
                match last {
                    Some(last) => write!(f, ": last: {last}"),
                    None => Ok(()),
                }
            }
            Self::RetriesExhausted { attempts, last } => {
                write!(f, "gave up after {attempts} attempt(s): last: {last}")
            }
            Self::BudgetExhausted { attempts, last } => write!(
                f,
                "retry budget exhausted after {attempts} attempt(s): last: {last}"
            ),
            Self::Transport { host, kind, source } => {
                write!(f, "{kind} on {host}: {}", Chain(source))
            }
            Self::Unauthorized(response) => write!(f, "unauthorized: {response}"),
            // The status line says that it is an error.
            Self::Status(response) => response.fmt(f),
            Self::Decode { status, source, .. } => write!(
                f,
                "cannot decode the response body (status {status}): {source}"
            ),
            Self::ContentType {
                status,
                content_type,
                ..
            } => write!(
                f,
                "unexpected content type `{content_type}` (status {status})"
            ),
            Self::BodyTooLarge { host, limit } => {
                write!(f, "response body from {host} exceeds {limit} bytes")
            }
            Self::Auth(e) => e.fmt(f),
            Self::InvalidRequest(reason) => write!(f, "invalid request: {reason}"),
            #[cfg(feature = "streams")]
            Self::Broker(e) => e.fmt(f),
            #[cfg(feature = "streams")]
            Self::Message(e) => write!(f, "{}", Chain(e)),
        }
    }
}

/// No `source`: every message already ends with its cause.
impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Self::Config(e)
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        Self::Auth(e)
    }
}

/// An error's message followed by its causes', `: `-separated: the chain a library error
/// keeps in `source`, written out for a message that stands alone.
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.to_string();
        let mut next = self.0.source();
        while let Some(cause) = next {
            let text = cause.to_string();
            // Some errors already end their message with their cause's.
            if !shown.contains(&text) {
                shown.push_str(": ");
                shown.push_str(&text);
            }
            next = cause.source();
        }
        f.write_str(&shown)
    }
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
            #[cfg(feature = "streams")]
            Self::Broker(e) => e.retryable,
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

    /// For a summary of attempts ([`RetriesExhausted`](Self::RetriesExhausted),
    /// [`BudgetExhausted`](Self::BudgetExhausted), [`DeadlineExceeded`](Self::DeadlineExceeded)):
    /// the error the last attempt ended with, when one ended.
    pub fn last_attempt(&self) -> Option<&Error> {
        match self {
            Self::RetriesExhausted { last, .. } | Self::BudgetExhausted { last, .. } => Some(last),
            Self::DeadlineExceeded { last, .. } => last.as_deref(),
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
///
/// As with [`Error`], the message ends with the cause, and
/// [`source`](std::error::Error::source) is `None`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// Environment variables the connection's settings use are not set.
    MissingEnv {
        /// The connection's name.
        connection: String,
        /// Every unset variable, upper-cased as it was looked up.
        names: Vec<String>,
    },
    /// The connection or its settings are missing or wrong in the manifest.
    Settings {
        /// The connection's name.
        connection: String,
        /// What the manifest reader found.
        source: SettingsError,
    },
    /// A host in `connection_str` is not an `http://` or `https://` URL.
    InvalidHost {
        /// The connection's name.
        connection: String,
        /// The host as configured.
        host: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The `appwire.hmac` settings are not usable.
    Hmac {
        /// The connection's name.
        connection: String,
        /// What is wrong.
        reason: String,
    },
    /// The caller's private key for `CLIENT_APP_PUBLIC_KEY` cannot be used.
    ClientKey {
        /// The connection's name.
        connection: String,
        /// The key file: `<secrets_location>/.private/<caller app key>.pem`.
        path: PathBuf,
        /// Why the key cannot be used.
        source: KeyError,
    },
    /// The hopeit server config the connection takes its key folder and passphrase from
    /// cannot be read.
    ServerConfig {
        /// The connection's name.
        connection: String,
        /// Why the file cannot be read.
        source: ServerConfigError,
    },
    /// A token or header value from the settings is not a valid header value.
    HeaderValue {
        /// The connection's name.
        connection: String,
        /// Which setting.
        what: &'static str,
    },
    /// The HTTP client cannot be built.
    Client {
        /// The connection's name.
        connection: String,
        /// The HTTP client's error.
        source: reqwest::Error,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingEnv { connection, names } => write!(
                f,
                "connection `{connection}`: environment variable{} not set: {}",
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            Self::Settings { connection, source } => {
                write!(f, "connection `{connection}`: {source}")
            }
            Self::InvalidHost {
                connection,
                host,
                reason,
            } => write!(
                f,
                "connection `{connection}`: invalid host `{host}`: {reason}"
            ),
            Self::Hmac { connection, reason } => {
                write!(f, "connection `{connection}`: HMAC signing: {reason}")
            }
            Self::ClientKey {
                connection,
                path,
                source,
            } => {
                let path = path.display();
                match source {
                    // The path is said once, in the sentence that says what was done.
                    KeyError::Io { source, .. } => write!(
                        f,
                        "connection `{connection}`: cannot read the client app key `{path}`: \
                         {source}"
                    ),
                    source => write!(
                        f,
                        "connection `{connection}`: client app key `{path}`: {source}"
                    ),
                }
            }
            Self::ServerConfig { connection, source } => {
                write!(f, "connection `{connection}`: {source}")
            }
            Self::HeaderValue { connection, what } => write!(
                f,
                "connection `{connection}`: {what} is not a valid header value"
            ),
            Self::Client { connection, source } => write!(
                f,
                "connection `{connection}`: cannot build the HTTP client: {}",
                Chain(source)
            ),
        }
    }
}

/// No `source`: every message already ends with its cause.
impl std::error::Error for ConfigError {}

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
        assert!(matches!(summary.last_attempt(), Some(Error::Status(_))));
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

    #[test]
    fn a_summary_ends_with_its_last_attempts_error_and_has_no_source() {
        let last = || Box::new(Error::Status(Box::new(response(503, r#"{"msg": "busy"}"#))));
        let retries = Error::RetriesExhausted {
            attempts: 3,
            last: last(),
        };
        assert_eq!(
            retries.to_string(),
            "gave up after 3 attempt(s): last: 503 Service Unavailable from http://h: busy"
        );
        let budget = Error::BudgetExhausted {
            attempts: 1,
            last: last(),
        };
        assert_eq!(
            budget.to_string(),
            "retry budget exhausted after 1 attempt(s): last: 503 Service Unavailable from \
             http://h: busy"
        );
        let deadline = |last| Error::DeadlineExceeded {
            deadline: Duration::from_secs(5),
            attempts: 2,
            last,
        };
        assert_eq!(
            deadline(Some(last())).to_string(),
            "deadline of 5s exceeded after 2 attempt(s): last: 503 Service Unavailable from \
             http://h: busy"
        );
        assert_eq!(
            deadline(None).to_string(),
            "deadline of 5s exceeded after 2 attempt(s)"
        );
        for summary in [retries, budget, deadline(Some(last())), deadline(None)] {
            assert!(std::error::Error::source(&summary).is_none(), "{summary}");
        }
        assert!(deadline(None).last_attempt().is_none());
    }

    #[test]
    fn a_settings_error_is_said_once_in_the_message_and_not_again_as_the_source() {
        let e = ConfigError::Settings {
            connection: "target".into(),
            source: SettingsError::Missing("target".into()),
        };
        assert_eq!(
            e.to_string(),
            "connection `target`: settings section `target` is missing"
        );
        assert!(std::error::Error::source(&e).is_none());
        let e = Error::from(e);
        assert_eq!(
            e.to_string(),
            "connection `target`: settings section `target` is missing"
        );
        assert!(std::error::Error::source(&e).is_none());
    }

    #[test]
    fn a_chain_writes_every_cause_once() {
        #[derive(Debug)]
        struct Layer(&'static str, Option<Box<Layer>>);
        impl fmt::Display for Layer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for Layer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|l| l as _)
            }
        }
        let io = Layer("Connection refused", None);
        // The middle layer already says its cause, as some libraries' errors do.
        let middle = Layer("tcp connect error: Connection refused", Some(Box::new(io)));
        let top = Layer("error sending request", Some(Box::new(middle)));
        assert_eq!(
            Chain(&top).to_string(),
            "error sending request: tcp connect error: Connection refused"
        );
    }
}
