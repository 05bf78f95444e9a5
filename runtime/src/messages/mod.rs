//! Stream messages exactly as hopeit.engine 0.30.1 writes them to Redis Streams, and reads them.
//!
//! A message is one stream entry: the fields of an [`Envelope`], in hopeit's order (`id, type,
//! submit_ts, event_ts, <track ids…>, auth_info, ser, comp, payload, queue`). Its `payload` is
//! the event's JSON, serialized by a [`Serialization`] and then compressed by a
//! [`Compression`], both named in the message (`ser`, `comp`) with hopeit's spellings:
//!
//! ```
//! use appwire::messages::{decode, encode, Compression, Serialization};
//!
//! # fn main() -> Result<(), appwire::messages::CodecError> {
//! let json = br#"{"order_id":"order-1","qty":3}"#;
//! let payload = encode(Serialization::JsonBase64, Compression::Lz4, json)?;
//! assert_eq!(decode(Serialization::JsonBase64, Compression::Lz4, &payload)?, json);
//! # Ok(()) }
//! ```
//!
//! The contract, both ways:
//! - every `comp` hopeit knows is read, LZ4 frames with independent or linked blocks alike, and
//!   every `ser` except `pickle:*`, which is Python-only: it parses, so that a message can name
//!   it, but encoding or decoding it is an error, and appwire never writes it;
//! - a writer always sends every field hopeit's reader requires, so hopeit never fails on a
//!   message appwire published;
//! - reading never panics: a malformed message, a payload that does not decompress, or one that
//!   would decompress past a size limit ([`DEFAULT_MAX_DECODED_SIZE`] unless told) is a
//!   [`CodecError`], for the caller to dead-letter instead of stopping its consumer.

pub mod broker;
pub mod glob;
pub mod keys;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

mod acks;
mod compression;
mod delivery;
mod envelope;
mod error;
/// What generated publishers and subscribers are built from: see `__private`.
#[doc(hidden)]
pub mod generated;
mod handler;
mod publisher;
mod python_json;
mod schedule;
mod serialization;
mod subscriber;

pub use appwire_manifest::AUTO_QUEUE;
pub use appwire_manifest::{GroupStart, QueueStrategy};
pub use broker::{BoxFuture, Broker, SharedBroker};
pub use compression::Compression;
pub use delivery::Delivery;
pub use envelope::Envelope;
pub use error::{BrokerError, CodecError};
pub use handler::{Handler, HandlerError, Runner};
pub use keys::{dead_letter_key, stream_key};
pub use publisher::{Publish, Published, Publisher, PublisherOptions, Schedule};
pub use serialization::Serialization;
pub use subscriber::{
    REASON_DECODE, REASON_MAX_DELIVERIES, Streams, Subscriber, SubscriberOptions,
};

/// The largest payload [`decode`] returns, and the most any step of decoding may produce: 16 MiB.
///
/// A compressed payload is small on the wire and may be huge once inflated; the limit makes
/// such a message an error instead of an allocation the process cannot afford.
pub const DEFAULT_MAX_DECODED_SIZE: usize = 16 * 1024 * 1024;

/// A payload for the wire: `json` serialized by `ser`, then compressed by `comp`, as hopeit's
/// `serialize` does (base64, when `ser` asks for it, comes before compression).
///
/// # Errors
///
/// [`CodecError::Pickle`] for `pickle:*`, which appwire never writes.
pub fn encode(ser: Serialization, comp: Compression, json: &[u8]) -> Result<Vec<u8>, CodecError> {
    comp.compress(&ser.serialize(json)?)
}

/// The JSON of a payload read from the wire, decompressed by `comp` and then deserialized by
/// `ser`, at most [`DEFAULT_MAX_DECODED_SIZE`] bytes at every step.
///
/// # Errors
///
/// A [`CodecError`] saying why the payload cannot be read; never a panic, whatever the bytes.
pub fn decode(
    ser: Serialization,
    comp: Compression,
    payload: &[u8],
) -> Result<Vec<u8>, CodecError> {
    decode_with_limit(ser, comp, payload, DEFAULT_MAX_DECODED_SIZE)
}

/// [`decode`] with another size limit: no step of decoding produces more than `max_size` bytes.
///
/// # Errors
///
/// As [`decode`]; [`CodecError::TooLarge`] past `max_size`.
pub fn decode_with_limit(
    ser: Serialization,
    comp: Compression,
    payload: &[u8],
    max_size: usize,
) -> Result<Vec<u8>, CodecError> {
    let serialized = comp.decompress(payload, max_size)?;
    ser.deserialize(&serialized, max_size)
}
