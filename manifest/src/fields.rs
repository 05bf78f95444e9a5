//! The keys the model knows for an object of the manifest, read from serde itself: candidates
//! for "did you mean" when a key is unknown.
//!
//! A derived `Deserialize` of a struct passes its field names (renames and aliases included) to
//! [`Deserializer::deserialize_struct`]. [`known_fields`] deserializes the model type from a
//! probe that walks a path down to the object asked for: at each struct or map it offers the one
//! key of the path, at each list the one element, and at the end of the path it stops with the
//! field names it was given. The names are those the model reads, so they cannot drift from it.
//! The model has no flattened structs, whose fields serde does not pass.

use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};

use crate::path::{JsonPath, Segment};

/// The field names of the struct at `path` of a `T`; empty when the path leads to no struct
/// (a map of free values, a scalar, a key the model does not know).
pub(crate) fn known_fields<T: DeserializeOwned>(path: &JsonPath) -> Vec<String> {
    match T::deserialize(Probe(path.segments())) {
        Err(Stop::Fields(fields)) => fields.iter().map(|&f| f.to_owned()).collect(),
        Ok(_) | Err(Stop::Miss) => Vec::new(),
    }
}

/// How a probe ends.
#[derive(Debug)]
enum Stop {
    /// The struct at the end of the path, with its field names.
    Fields(&'static [&'static str]),
    /// The path leads to no struct.
    Miss,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Fields(fields) => write!(f, "fields {fields:?}"),
            Stop::Miss => f.write_str("no struct here"),
        }
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Stop::Miss
    }
}

/// Stands for the value at the start of the remaining path.
struct Probe<'p>(&'p [Segment]);

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop::Miss)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        if self.0.is_empty() {
            return Err(Stop::Fields(fields));
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.0.split_first() {
            Some((Segment::Key(key), rest)) => visitor.visit_map(Member {
                key: Some(key),
                rest,
            }),
            _ => Err(Stop::Miss),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        match self.0.split_first() {
            Some((Segment::Index(_), rest)) => visitor.visit_seq(Element(Some(rest))),
            _ => Err(Stop::Miss),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Stop> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct tuple tuple_struct enum identifier ignored_any
    }
}

/// The one member of an object on the path.
struct Member<'p> {
    key: Option<&'p str>,
    rest: &'p [Segment],
}

impl<'de> de::MapAccess<'de> for Member<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        match self.key.take() {
            Some(key) => seed.deserialize(key.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        seed.deserialize(Probe(self.rest))
    }
}

/// The one element of a list on the path.
struct Element<'p>(Option<&'p [Segment]>);

impl<'de> de::SeqAccess<'de> for Element<'_> {
    type Error = Stop;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Stop> {
        match self.0.take() {
            Some(rest) => seed.deserialize(Probe(rest)).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AppConfig, ConnectionSettings};

    fn app(path: JsonPath) -> Vec<String> {
        known_fields::<AppConfig>(&path)
    }

    #[test]
    fn fields_follow_structs_maps_lists_and_options() {
        let root = app(JsonPath::root());
        assert!(root.contains(&"$schema".to_owned()), "{root:?}");
        let event = app(JsonPath::from(["events", "any"]));
        assert!(event.contains(&"connections".to_owned()), "{event:?}");
        assert!(event.contains(&"impl".to_owned()), "{event:?}");
        let conn = app(JsonPath::from(["events", "e", "connections"]).index(0));
        assert_eq!(conn, ["app_connection", "event", "type"]);
        let stream = app(JsonPath::from(["events", "e", "write_stream"]));
        assert!(stream.contains(&"queue_strategy".to_owned()), "{stream:?}");
        let root = known_fields::<ConnectionSettings>(&JsonPath::root());
        assert!(root.contains(&"retries".to_owned()), "{root:?}");
        let ext = known_fields::<ConnectionSettings>(&JsonPath::from(["appwire", "retry_budget"]));
        assert!(ext.contains(&"percent".to_owned()), "{ext:?}");
    }

    #[test]
    fn no_fields_off_the_model() {
        for path in [
            JsonPath::from(["nope"]),
            JsonPath::from(["events"]),
            JsonPath::from(["settings", "conn"]),
            JsonPath::from(["engine", "read_stream_timeout"]),
            JsonPath::from(["events", "e"]).index(0),
            JsonPath::from(["events", "e", "connections", "0"]),
            JsonPath::root().index(0),
        ] {
            assert_eq!(app(path.clone()), Vec::<String>::new(), "{path}");
        }
    }
}
