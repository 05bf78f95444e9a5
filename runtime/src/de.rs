//! Decoding of the types of a spec, for the `Deserialize` derive of generated code.
//!
//! A struct is read as serde's derive reads it: its fields by name, in any order, unknown
//! fields skipped, a field given twice or a required field missing an error, an absent
//! `Option` field `None`. One generic visitor does the reading for every struct, so generated
//! code holds only the table of its fields.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

/// A struct decoded field by field.
pub trait Record: Sized {
    /// The struct's name, for messages.
    const NAME: &'static str;
    /// Its fields' names in JSON, in declaration order.
    const FIELDS: &'static [&'static str];
    /// A slot per field, filled as the fields are read.
    type Slots;
    /// Empty slots.
    fn slots() -> Self::Slots;
    /// Reads the value of field number `field` into its slot.
    fn read<'de, A: MapAccess<'de>>(
        slots: &mut Self::Slots,
        field: usize,
        map: &mut A,
    ) -> Result<(), A::Error>;
    /// The struct from its slots.
    fn build<E: de::Error>(slots: Self::Slots) -> Result<Self, E>;
}

/// Decodes the struct `T`.
pub fn record<'de, T: Record, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_struct(T::NAME, T::FIELDS, RecordVisitor::<T>(PhantomData))
}

struct RecordVisitor<T>(PhantomData<T>);

impl<'de, T: Record> Visitor<'de> for RecordVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", T::NAME)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut slots = T::slots();
        while let Some(field) = map.next_key_seed(FieldName(T::FIELDS))? {
            match field {
                Some(field) => T::read(&mut slots, field, &mut map)?,
                None => skip(&mut map)?,
            }
        }
        T::build(slots)
    }
}

/// A field's name, as its number among the struct's fields.
struct FieldName(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldName {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<usize>, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for FieldName {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|f| *f == name))
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|f| f.as_bytes() == name))
    }
}

/// Reads the value of field `name` into `slot`; a field given twice is an error.
pub fn put<'de, T: de::Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// Skips the value of a field the struct does not have.
pub fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(drop)
}

/// The value of required field `name`.
pub fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

/// Decodes a string enum's variant: its number among `variants`.
pub fn variant<'de, D: Deserializer<'de>>(
    deserializer: D,
    name: &'static str,
    variants: &'static [&'static str],
) -> Result<usize, D::Error> {
    deserializer.deserialize_str(VariantName { name, variants })
}

struct VariantName {
    name: &'static str,
    variants: &'static [&'static str],
}

impl<'de> Visitor<'de> for VariantName {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a variant of enum {}", self.name)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<usize, E> {
        self.variants
            .iter()
            .position(|v| *v == value)
            .ok_or_else(|| E::unknown_variant(value, self.variants))
    }
}
