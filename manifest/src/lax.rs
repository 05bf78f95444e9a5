//! pydantic's "lax" scalar coercions, as hopeit applies them when it reads a config.
//!
//! hopeit validates configs with pydantic in lax mode: `"3"` is accepted for an integer, `90.0`
//! too (but not `90.5`), and `"false"` for a boolean. Fields of the model that hopeit types as
//! `int`, `float` or `bool` deserialize through these functions, with pydantic's values. Strings
//! stay strict, as in pydantic: `1` is not a valid `str`.
//!
//! Two deliberate differences: integers are non-negative and fit in 64 bits (no hopeit setting
//! means anything below zero), and numbers are finite (`"nan"` and `"inf"` are refused).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A JSON scalar before coercion.
enum Scalar {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Float(x) => write!(f, "{x}"),
            Scalar::Str(s) => write!(f, "{s:?}"),
        }
    }
}

struct ScalarVisitor(&'static str);

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D, expecting: &'static str) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor(expecting))
}

/// Removes `_` digit separators, which Python allows only singly and between two digits.
fn without_separators(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        let digit = |j: Option<usize>| j.and_then(|j| bytes.get(j)).is_some_and(u8::is_ascii_digit);
        if *b == b'_' && !(digit(i.checked_sub(1)) && digit(Some(i + 1))) {
            return None;
        }
    }
    Some(s.replace('_', ""))
}

/// Parses an integer the way pydantic does from a string: surrounding whitespace, `_` digit
/// separators, a sign, and a fractional part of zeros (`"3.0"`, not `"3."`).
fn parse_int_str(s: &str) -> Option<i128> {
    let t = s.trim();
    let t = match t.split_once('.') {
        Some((i, f)) if !f.is_empty() && f.bytes().all(|c| c == b'0') => i,
        Some(_) => return None,
        None => t,
    };
    without_separators(t)?.parse().ok()
}

/// A non-negative integer: JSON integers, floats with no fractional part, integer strings and
/// booleans (`true` is 1), as pydantic's lax `int`; negative values are rejected because no
/// hopeit setting means anything below zero.
pub(crate) fn uint<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    let v = scalar(d, "a non-negative integer")?;
    let n = match &v {
        Scalar::Int(i) => Some(*i),
        Scalar::Bool(b) => Some(i128::from(*b)),
        Scalar::Float(x) if x.fract() == 0.0 && x.is_finite() && x.abs() < 1e30 => Some(*x as i128),
        Scalar::Str(s) => parse_int_str(s),
        Scalar::Float(_) => None,
    };
    let n = n.ok_or_else(|| de::Error::custom(format!("expected an integer, found {v}")))?;
    u64::try_from(n)
        .ok()
        .and_then(|n| T::try_from(n).ok())
        .ok_or_else(|| de::Error::custom(format!("integer {n} is out of range")))
}

/// A [`uint`] of at least 1: a duration of zero would fail every call at once.
pub(crate) fn positive<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    match uint::<D, u64>(d)? {
        0 => Err(de::Error::custom("expected at least 1, found 0")),
        n => T::try_from(n).map_err(|_| de::Error::custom(format!("integer {n} is out of range"))),
    }
}

/// An optional [`uint`]: `null` or an absent key is `None`.
pub(crate) fn opt_uint<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    struct Lax<T>(T);
    impl<'de, T: TryFrom<u64>> serde::Deserialize<'de> for Lax<T> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            uint(d).map(Lax)
        }
    }
    Option::<Lax<T>>::deserialize(d).map(|o| o.map(|Lax(v)| v))
}

/// A number: JSON numbers, numeric strings and booleans, as pydantic's lax `float`.
pub(crate) fn float<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let v = scalar(d, "a number")?;
    let x = match &v {
        Scalar::Int(i) => Some(*i as f64),
        Scalar::Float(x) => Some(*x),
        Scalar::Bool(b) => Some(f64::from(u8::from(*b))),
        Scalar::Str(s) => without_separators(s.trim())
            .and_then(|t| t.parse::<f64>().ok())
            .filter(|x| x.is_finite()),
    };
    x.ok_or_else(|| de::Error::custom(format!("expected a number, found {v}")))
}

/// A boolean: JSON booleans, `0`/`1`, and the strings pydantic accepts (`true`, `false`, `yes`,
/// `no`, `on`, `off`, `t`, `f`, `y`, `n`, `1`, `0`, in any case).
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let v = scalar(d, "a boolean")?;
    let b = match &v {
        Scalar::Bool(b) => Some(*b),
        Scalar::Int(0) => Some(false),
        Scalar::Int(1) => Some(true),
        Scalar::Float(x) if *x == 0.0 => Some(false),
        Scalar::Float(x) if *x == 1.0 => Some(true),
        Scalar::Str(s) => match s.to_ascii_lowercase().as_str() {
            "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
            "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    };
    b.ok_or_else(|| de::Error::custom(format!("expected a boolean, found {v}")))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Deserialize, Debug)]
    struct Probe {
        #[serde(default, deserialize_with = "super::uint")]
        n: u32,
        #[serde(default, deserialize_with = "super::boolean")]
        b: bool,
        #[serde(default, deserialize_with = "super::float")]
        x: f64,
    }

    fn probe(v: serde_json::Value) -> Result<Probe, String> {
        Probe::deserialize(v).map_err(|e| e.to_string())
    }

    #[test]
    fn integers() {
        for (input, want) in [
            (json!(3), 3),
            (json!("3"), 3),
            (json!(" 3 "), 3),
            (json!(90.0), 90),
            (json!("1_000"), 1000),
            (json!(true), 1),
        ] {
            assert_eq!(
                probe(json!({ "n": input })).map(|p| p.n),
                Ok(want),
                "{input}"
            );
        }
        for input in [
            json!(90.5),
            json!("3.5"),
            json!("x"),
            json!(-1),
            json!(null),
        ] {
            assert!(probe(json!({ "n": input })).is_err(), "{input}");
        }
    }

    #[test]
    fn booleans_and_floats() {
        assert!(!probe(json!({ "b": "false" })).map(|p| p.b).unwrap_or(true));
        assert!(probe(json!({ "b": "Yes" })).map(|p| p.b).unwrap_or(false));
        assert!(probe(json!({ "b": 2 })).is_err());
        assert_eq!(probe(json!({ "x": "0.5" })).map(|p| p.x), Ok(0.5));
        assert_eq!(probe(json!({ "x": "1_000.5" })).map(|p| p.x), Ok(1000.5));
        assert_eq!(probe(json!({ "x": 2 })).map(|p| p.x), Ok(2.0));
        assert!(probe(json!({ "x": "nan" })).is_err());
    }
}
