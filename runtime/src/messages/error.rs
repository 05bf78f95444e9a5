//! Why a stream message cannot be read or written.

/// Why a stream message, or its payload, cannot be read or written.
///
/// Every cause is its own variant, so that a consumer can dead-letter a message with a reason
/// and a publisher can tell its own mistake from the data's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A field hopeit's reader requires is not in the message.
    #[error("stream message has no `{0}` field")]
    MissingField(&'static str),
    /// A text field is not UTF-8.
    #[error("stream message field `{0}` is not UTF-8")]
    NotUtf8(String),
    /// `ser` is not one of hopeit's serializations.
    #[error("unknown serialization `{0}`")]
    UnknownSerialization(String),
    /// `comp` is not one of hopeit's compressions.
    #[error("unknown compression `{0}`")]
    UnknownCompression(String),
    /// The message's `type` is not one the subscriber accepts.
    #[error("unexpected message type `{0}`")]
    UnexpectedType(String),
    /// The payload is `pickle:*`, which only Python reads and appwire never writes.
    #[error("serialization `{0}` is Python-only and not supported")]
    Pickle(&'static str),
    /// A value that must be base64 (a `json+base64` payload, `auth_info`) is not.
    #[error("`{field}` is not valid base64: {source}")]
    Base64 {
        /// What was being decoded: `payload` or `auth_info`.
        field: &'static str,
        /// Why it is not base64.
        #[source]
        source: base64::DecodeError,
    },
    /// The payload does not decompress with the message's compression.
    #[error("payload does not decompress as `{compression}`: {source}")]
    Decompress {
        /// The message's `comp`.
        compression: &'static str,
        /// What the decompressor reported.
        #[source]
        source: std::io::Error,
    },
    /// Compressing the payload failed (an I/O error from the encoder, on memory only).
    #[error("payload does not compress as `{compression}`: {source}")]
    Compress {
        /// The compression asked for.
        compression: &'static str,
        /// What the compressor reported.
        #[source]
        source: std::io::Error,
    },
    /// Decoding would produce more than the allowed number of bytes.
    #[error("decoded payload exceeds {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// A decoded value is not UTF-8 JSON (of the expected shape, for `auth_info`: an object).
    #[error("`{field}` is not valid JSON: {reason}")]
    Json {
        /// What was being decoded: `payload` or `auth_info`.
        field: &'static str,
        /// Why it is not.
        reason: String,
    },
}

/// A broker that failed or refused a command: [`crate::Error::Broker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerError {
    /// The backend: `redis`, `memory`.
    pub backend: &'static str,
    /// What was being done: `publish`, `read`, `ack`, …
    pub operation: &'static str,
    /// The stream key, when one command was about one.
    pub key: Option<String>,
    /// What the backend said.
    pub message: String,
    /// Whether the same command may succeed later: the broker was unreachable or busy, as
    /// opposed to a command it refuses.
    pub retryable: bool,
}

impl std::fmt::Display for BrokerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} broker: {}", self.backend, self.operation)?;
        if let Some(key) = &self.key {
            write!(f, " on `{key}`")?;
        }
        write!(f, " failed: {}", self.message)
    }
}

impl std::error::Error for BrokerError {}
