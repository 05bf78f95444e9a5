//! A stream message's fields, in hopeit's order, as XADD sends them and XREADGROUP returns them.

use std::borrow::Cow;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::broker::Field;
use super::{AUTO_QUEUE, CodecError, Compression, Serialization, python_json};

/// The fields hopeit writes around the track ids; every other field of a message is a track id.
const KNOWN: [&str; 9] = [
    "id",
    "type",
    "submit_ts",
    "event_ts",
    "auth_info",
    "ser",
    "comp",
    "payload",
    "queue",
];

/// One stream message as hopeit.engine 0.30.1 writes it (`_encode_message`) and reads it
/// (`_decode_message`).
///
/// [`Envelope::to_fields`] gives the fields in hopeit's order, every one hopeit's reader
/// requires always present; [`Envelope::from_fields`] reads them as hopeit's reader does.
/// The payload stays encoded: [`Envelope::payload_json`] decodes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `id`: the event's id.
    pub id: String,
    /// `type`: the Python `module.qualname` of the payload's class, which a hopeit consumer
    /// dispatches on.
    pub type_name: String,
    /// `submit_ts`: when the message was published, as Python's `isoformat()` writes it.
    pub submit_ts: String,
    /// `event_ts`: the event's own time, or `""`.
    pub event_ts: String,
    /// The track ids (`track.operation_id`, `event.app`, …), in their order, `""` when unset.
    pub track_ids: Vec<(String, String)>,
    /// `auth_info`: the publisher's auth info, a JSON object (empty when none).
    pub auth_info: Map<String, Value>,
    /// `ser`: how the payload is serialized.
    pub serialization: Serialization,
    /// `comp`: how the payload is compressed.
    pub compression: Compression,
    /// `payload`: the encoded payload, as on the wire.
    pub payload: Vec<u8>,
    /// `queue`: the queue the message was published to ([`AUTO_QUEUE`] for none).
    pub queue: String,
}

impl Envelope {
    /// A message for the payload `json`, encoded with `ser` and `comp`, submitted now, with no
    /// event time, track ids or auth info, on the [`AUTO_QUEUE`].
    ///
    /// # Errors
    ///
    /// As [`super::encode`].
    pub fn new(
        id: impl Into<String>,
        type_name: impl Into<String>,
        serialization: Serialization,
        compression: Compression,
        json: &[u8],
    ) -> Result<Self, CodecError> {
        Ok(Self {
            id: id.into(),
            type_name: type_name.into(),
            submit_ts: crate::context::iso_utc(SystemTime::now())
                .as_str()
                .to_owned(),
            event_ts: String::new(),
            track_ids: Vec::new(),
            auth_info: Map::new(),
            serialization,
            compression,
            payload: super::encode(serialization, compression, json)?,
            queue: AUTO_QUEUE.to_owned(),
        })
    }

    /// The value of the track id `name`, or `""` when the message has none, as hopeit reads a
    /// missing track header.
    pub fn track_id(&self, name: &str) -> &str {
        self.track_ids
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The payload's JSON (see [`super::decode`]).
    ///
    /// # Errors
    ///
    /// As [`super::decode_with_limit`].
    pub fn payload_json(&self, max_size: usize) -> Result<Vec<u8>, CodecError> {
        super::decode_with_limit(
            self.serialization,
            self.compression,
            &self.payload,
            max_size,
        )
    }

    /// The fields an XADD sends, in hopeit's order: `id, type, submit_ts, event_ts, <track
    /// ids…>, auth_info, ser, comp, payload, queue`.
    pub fn to_fields(&self) -> Vec<Field> {
        self.clone().into_fields()
    }

    /// [`to_fields`](Self::to_fields), taking the envelope apart instead of copying it.
    pub fn into_fields(self) -> Vec<Field> {
        let auth_info = encode_auth_info(&self.auth_info);
        self.into_fields_with(auth_info)
    }

    /// The fields, with `auth_info` already encoded by [`encode_auth_info`]: a publisher
    /// encodes its default once.
    pub(crate) fn into_fields_with(self, auth_info: Vec<u8>) -> Vec<Field> {
        let mut fields = Vec::with_capacity(KNOWN.len() + self.track_ids.len());
        fields.push((Cow::Borrowed("id"), self.id.into_bytes()));
        fields.push((Cow::Borrowed("type"), self.type_name.into_bytes()));
        fields.push((Cow::Borrowed("submit_ts"), self.submit_ts.into_bytes()));
        fields.push((Cow::Borrowed("event_ts"), self.event_ts.into_bytes()));
        fields.extend(
            self.track_ids
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), v.into_bytes())),
        );
        fields.push((Cow::Borrowed("auth_info"), auth_info));
        fields.push((
            Cow::Borrowed("ser"),
            self.serialization.as_str().as_bytes().to_vec(),
        ));
        fields.push((
            Cow::Borrowed("comp"),
            self.compression.as_str().as_bytes().to_vec(),
        ));
        fields.push((Cow::Borrowed("payload"), self.payload));
        fields.push((Cow::Borrowed("queue"), self.queue.into_bytes()));
        fields
    }

    /// A message read from a stream entry's fields, as hopeit's reader reads it: `queue`
    /// defaults to [`AUTO_QUEUE`]; every field not among hopeit's own is a track id, in the
    /// entry's order; of a field given twice the last value counts, as in the dict redis-py
    /// makes of the entry.
    ///
    /// # Errors
    ///
    /// [`CodecError::MissingField`] for a missing `id`, `type`, `submit_ts`, `event_ts`,
    /// `auth_info`, `ser`, `comp` or `payload`; [`CodecError::NotUtf8`] for a text field that is
    /// not UTF-8; an unknown `ser` or `comp`; an `auth_info` that is not base64 of a JSON
    /// object. The payload is not decoded here.
    pub fn from_fields(fields: &[(Vec<u8>, Vec<u8>)]) -> Result<Self, CodecError> {
        let mut known: [Option<&[u8]>; KNOWN.len()] = [None; KNOWN.len()];
        let mut track_ids: Vec<(String, String)> = Vec::new();
        for (name, value) in fields {
            match KNOWN.iter().position(|k| k.as_bytes() == name.as_slice()) {
                Some(i) => known[i] = Some(value),
                None => {
                    let name = utf8(name, "field name")?;
                    let value = utf8(value, &name)?;
                    match track_ids.iter_mut().find(|(k, _)| *k == name) {
                        Some(slot) => slot.1 = value,
                        None => track_ids.push((name, value)),
                    }
                }
            }
        }
        let [
            id,
            type_name,
            submit_ts,
            event_ts,
            auth_info,
            ser,
            comp,
            payload,
            queue,
        ] = known;
        let text = |value: Option<&[u8]>, field: &'static str| {
            value
                .ok_or(CodecError::MissingField(field))
                .and_then(|v| utf8(v, field))
        };
        Ok(Self {
            id: text(id, "id")?,
            type_name: text(type_name, "type")?,
            submit_ts: text(submit_ts, "submit_ts")?,
            event_ts: text(event_ts, "event_ts")?,
            auth_info: decode_auth_info(auth_info.ok_or(CodecError::MissingField("auth_info"))?)?,
            serialization: text(ser, "ser")?.parse()?,
            compression: text(comp, "comp")?.parse()?,
            payload: payload.ok_or(CodecError::MissingField("payload"))?.to_vec(),
            queue: queue.map_or(Ok(AUTO_QUEUE.to_owned()), |q| utf8(q, "queue"))?,
            track_ids,
        })
    }
}

/// `bytes` as text, or the error naming `field`.
/// `auth_info` as hopeit writes it: the base64 of its JSON, spaced as Python's `json.dumps`.
pub(crate) fn encode_auth_info(auth_info: &Map<String, Value>) -> Vec<u8> {
    STANDARD
        .encode(python_json::dumps(&Value::Object(auth_info.clone())))
        .into_bytes()
}

fn utf8(bytes: &[u8], field: &str) -> Result<String, CodecError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| CodecError::NotUtf8(field.to_owned()))
}

/// `auth_info`: base64 of a JSON object.
fn decode_auth_info(value: &[u8]) -> Result<Map<String, Value>, CodecError> {
    let json = STANDARD
        .decode(value)
        .map_err(|source| CodecError::Base64 {
            field: "auth_info",
            source,
        })?;
    match serde_json::from_slice(&json) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(CodecError::Json {
            field: "auth_info",
            reason: "not a JSON object".to_owned(),
        }),
        Err(e) => Err(CodecError::Json {
            field: "auth_info",
            reason: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_info_is_written_as_hopeit_writes_it() {
        let mut e = Envelope::new(
            "order-1",
            "shop.model.OrderPlaced",
            Serialization::Json,
            Compression::None,
            b"{}",
        )
        .unwrap();
        let auth = |e: &Envelope| {
            e.to_fields()
                .into_iter()
                .find(|(k, _)| k == "auth_info")
                .unwrap()
                .1
        };
        assert_eq!(auth(&e), b"e30=");
        e.auth_info.insert("allowed".to_owned(), Value::Bool(true));
        e.auth_info.insert(
            "auth_type".to_owned(),
            Value::String("Unsecured".to_owned()),
        );
        assert_eq!(
            auth(&e),
            b"eyJhbGxvd2VkIjogdHJ1ZSwgImF1dGhfdHlwZSI6ICJVbnNlY3VyZWQifQ=="
        );
    }
}
