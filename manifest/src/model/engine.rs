use serde::{Deserialize, Deserializer, Serialize};

/// Compression of stream payloads (`Compression`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[allow(missing_docs)]
pub enum Compression {
    #[serde(rename = "none")]
    None,
    #[default]
    #[serde(rename = "lz4")]
    Lz4,
    #[serde(rename = "lz4:0")]
    Lz4Min,
    #[serde(rename = "lz4:16")]
    Lz4Max,
    #[serde(rename = "zip")]
    Zip,
    #[serde(rename = "zip:1")]
    ZipMin,
    #[serde(rename = "zip:9")]
    ZipMax,
    #[serde(rename = "gzip")]
    Gzip,
    #[serde(rename = "gzip:1")]
    GzipMin,
    #[serde(rename = "gzip:9")]
    GzipMax,
    #[serde(rename = "bz2")]
    Bz2,
    #[serde(rename = "bz2:1")]
    Bz2Min,
    #[serde(rename = "bz2:9")]
    Bz2Max,
    #[serde(rename = "lzma")]
    Lzma,
}

/// Serialization of stream payloads (`Serialization`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[allow(missing_docs)]
pub enum Serialization {
    #[serde(rename = "json")]
    Json,
    #[default]
    #[serde(rename = "json+base64")]
    JsonBase64,
    #[serde(rename = "pickle:3")]
    Pickle3,
    #[serde(rename = "pickle:4")]
    Pickle4,
    #[serde(rename = "pickle:5")]
    Pickle5,
}

/// The `engine` section (`AppEngineConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct AppEngineConfig {
    /// Python modules to import events from; the app name when empty.
    pub import_modules: Option<Vec<String>>,
    /// Milliseconds to block waiting for stream events.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub read_stream_timeout: u64,
    /// Milliseconds to wait before reading the next batch.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub read_stream_interval: u64,
    /// Compression for streams that set none.
    pub default_stream_compression: Compression,
    /// Serialization for streams that set none.
    pub default_stream_serialization: Serialization,
    /// Required `X-Track-*` headers, normalized as hopeit does (see
    /// `normalize_track_headers`).
    #[serde(deserialize_with = "track_headers")]
    pub track_headers: Vec<String>,
    /// Allowed CORS origin.
    pub cors_origin: Option<String>,
    /// Routes prefix CORS applies to; `/api/{app}/{ver}` when absent.
    pub cors_routes_prefix: Option<String>,
}

impl Default for AppEngineConfig {
    fn default() -> Self {
        Self {
            import_modules: None,
            read_stream_timeout: 1000,
            read_stream_interval: 1000,
            default_stream_compression: Compression::default(),
            default_stream_serialization: Serialization::default(),
            track_headers: normalize_track_headers(Vec::new()),
            cors_origin: None,
            cors_routes_prefix: None,
        }
    }
}

fn track_headers<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::deserialize(d).map(normalize_track_headers)
}

/// hopeit's normalization of `engine.track_headers`: a `track.` prefix is added where missing,
/// then `track.request_ts` and `track.request_id` are put in front unless already listed.
///
/// ```
/// let h = appwire_manifest::normalize_track_headers(vec!["caller".into(), "session_id".into()]);
/// assert_eq!(h, ["track.request_id", "track.request_ts", "track.caller", "track.session_id"]);
/// ```
pub fn normalize_track_headers(headers: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = headers
        .into_iter()
        .map(|h| {
            if h.starts_with("track.") {
                h
            } else {
                format!("track.{h}")
            }
        })
        .collect();
    for required in ["track.request_ts", "track.request_id"] {
        if !out.iter().any(|h| h == required) {
            out.insert(0, required.to_owned());
        }
    }
    out
}
