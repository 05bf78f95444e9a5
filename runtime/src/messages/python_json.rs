//! JSON as Python's `json.dumps` writes it with its defaults, for `auth_info`.
//!
//! hopeit writes `auth_info` as `base64(json.dumps(auth_info))`: separators `", "` and `": "`,
//! every character outside printable ASCII escaped as `\uXXXX` (UTF-16, so a surrogate pair
//! above U+FFFF), keys in the object's order. Numbers are written as serde_json writes them,
//! which is Python's text for integers; floats, not seen in `auth_info`, may differ in form.

use std::io::{self, Write};

use serde_json::ser::Formatter;

/// `value` as Python's `json.dumps(value)` writes it.
pub(crate) fn dumps(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonFormatter);
    // Writing a `Value` into a `Vec` cannot fail: its keys are strings and the writer is memory.
    if serde::Serialize::serialize(value, &mut ser).is_err() {
        out.clear();
    }
    out
}

/// Python's default separators and `ensure_ascii`.
struct PythonFormatter;

impl Formatter for PythonFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // serde_json has already escaped quotes, backslashes and control characters the way
        // Python does; what is left for `ensure_ascii` is DEL and everything above ASCII.
        let mut units = [0u16; 2];
        for c in fragment.chars() {
            if (' '..='~').contains(&c) {
                w.write_all(&[c as u8])?;
            } else {
                for unit in c.encode_utf16(&mut units) {
                    write!(w, "\\u{unit:04x}")?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::dumps;
    use serde_json::json;

    #[test]
    fn writes_as_python_json_dumps() {
        let cases = [
            (json!({}), "{}"),
            (
                json!({"allowed": true, "auth_type": "Unsecured"}),
                r#"{"allowed": true, "auth_type": "Unsecured"}"#,
            ),
            (
                json!({"b": [1, null, "x"], "a": {"c": -2}}),
                r#"{"b": [1, null, "x"], "a": {"c": -2}}"#,
            ),
            (
                json!({"u": "café \u{7f} 😀 \"q\" \\ \n\t\u{1}"}),
                r#"{"u": "caf\u00e9 \u007f \ud83d\ude00 \"q\" \\ \n\t\u0001"}"#,
            ),
        ];
        for (value, python) in cases {
            assert_eq!(String::from_utf8(dumps(&value)).unwrap(), python);
        }
    }
}
