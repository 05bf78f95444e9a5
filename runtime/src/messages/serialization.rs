//! `ser`: how a payload's JSON becomes bytes before compression (hopeit's `serialization.py`).

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::CodecError;

/// The `ser` of a stream message: hopeit's `Serialization` values, spelled as hopeit spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Serialization {
    /// `json`: the JSON text, UTF-8.
    Json,
    /// `json+base64`: the JSON text in standard base64 with padding (hopeit's default).
    JsonBase64,
    /// `pickle:3`: Python-only; parses, but never encoded or decoded.
    Pickle3,
    /// `pickle:4`: Python-only; parses, but never encoded or decoded.
    Pickle4,
    /// `pickle:5`: Python-only; parses, but never encoded or decoded.
    Pickle5,
}

impl Serialization {
    /// Every value, in hopeit's order.
    pub const ALL: [Self; 5] = [
        Self::Json,
        Self::JsonBase64,
        Self::Pickle3,
        Self::Pickle4,
        Self::Pickle5,
    ];

    /// The value as a message's `ser` field carries it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::JsonBase64 => "json+base64",
            Self::Pickle3 => "pickle:3",
            Self::Pickle4 => "pickle:4",
            Self::Pickle5 => "pickle:5",
        }
    }

    /// The bytes to compress for the payload `json`.
    pub(crate) fn serialize(self, json: &[u8]) -> Result<Vec<u8>, CodecError> {
        match self {
            Self::Json => Ok(json.to_vec()),
            Self::JsonBase64 => Ok(STANDARD.encode(json).into_bytes()),
            Self::Pickle3 | Self::Pickle4 | Self::Pickle5 => Err(CodecError::Pickle(self.as_str())),
        }
    }

    /// The JSON of decompressed `bytes`, checked to be UTF-8 JSON and at most `max_size` long.
    pub(crate) fn deserialize(self, bytes: &[u8], max_size: usize) -> Result<Vec<u8>, CodecError> {
        let json = match self {
            Self::Json => bytes.to_vec(),
            // Strict where Python's `b64decode` drops bytes outside the alphabet: hopeit never
            // writes any, so a payload with them is damaged, and better refused than guessed.
            Self::JsonBase64 => STANDARD
                .decode(bytes)
                .map_err(|source| CodecError::Base64 {
                    field: "payload",
                    source,
                })?,
            Self::Pickle3 | Self::Pickle4 | Self::Pickle5 => {
                return Err(CodecError::Pickle(self.as_str()));
            }
        };
        if json.len() > max_size {
            return Err(CodecError::TooLarge { limit: max_size });
        }
        // hopeit parses the payload with pydantic; here it is only checked to be JSON, so that
        // what a caller receives is JSON and a broken message fails at the same point.
        serde_json::from_slice::<serde::de::IgnoredAny>(&json).map_err(|e| CodecError::Json {
            field: "payload",
            reason: e.to_string(),
        })?;
        Ok(json)
    }
}

impl FromStr for Serialization {
    type Err = CodecError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| CodecError::UnknownSerialization(s.to_owned()))
    }
}

impl fmt::Display for Serialization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
