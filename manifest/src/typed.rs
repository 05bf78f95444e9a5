//! Typed deserialization of a JSON value that reports where it failed, which keys it ignored,
//! and which values it had to leave to the environment.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::path::{JsonPath, Segment};

/// A value deserialized as `T`.
#[derive(Debug)]
pub(crate) struct Typed<T> {
    pub(crate) value: T,
    /// Keys the model does not know (hopeit ignores them).
    // Only loading reports them; the model alone just needs the value.
    #[cfg_attr(not(feature = "diagnostics"), allow(dead_code))]
    pub(crate) ignored: Vec<JsonPath>,
    /// Values whose `${VAR}` reference could not stand for the type expected, left out.
    #[cfg_attr(not(feature = "diagnostics"), allow(dead_code))]
    pub(crate) deferred: Vec<Deferred>,
}

/// A value left out because it holds a `${VAR}` reference that only the environment resolves.
#[derive(Debug, Clone)]
pub(crate) struct Deferred {
    pub(crate) path: JsonPath,
    pub(crate) text: String,
}

/// Why a value is not a `T`.
#[derive(Debug)]
pub(crate) struct TypeError {
    pub(crate) path: JsonPath,
    pub(crate) message: String,
    /// The `${VAR}` text of a required member that was left to run time.
    #[cfg_attr(not(feature = "diagnostics"), allow(dead_code))]
    pub(crate) deferred: Option<String>,
}

/// Deserializes `value` as `T`. With `defer_env`, a string holding a `${VAR}` reference that
/// does not fit the type expected is left out (an object member takes its default, a list
/// element is dropped) and reported in [`Typed::deferred`], instead of failing. A required member
/// left out that way fails with [`TypeError::deferred`] set.
pub(crate) fn typed<T: DeserializeOwned>(
    mut value: Value,
    defer_env: bool,
) -> Result<Typed<T>, TypeError> {
    let mut deferred = Vec::new();
    loop {
        let mut ignored = Vec::new();
        let mut track = serde_path_to_error::Track::new();
        let result: Result<T, _> = serde_ignored::deserialize(
            serde_path_to_error::Deserializer::new(&value, &mut track),
            |path| ignored.push(JsonPath::from_ignored(&path)),
        );
        match result {
            Ok(v) => {
                return Ok(Typed {
                    value: v,
                    ignored,
                    deferred,
                });
            }
            Err(e) => {
                let path = JsonPath::from_serde(&track.path());
                if defer_env && let Some(text) = take_env_string(&mut value, &path) {
                    deferred.push(Deferred { path, text });
                    continue;
                }
                let message = e.to_string();
                let missing = message
                    .strip_prefix("missing field `")
                    .and_then(|m| m.strip_suffix('`'))
                    .map(|field| path.key(field));
                let required = missing.and_then(|m| deferred.iter().find(|d| d.path == m));
                return Err(TypeError {
                    path: required.map_or(path, |d| d.path.clone()),
                    message,
                    deferred: required.map(|d| d.text.clone()),
                });
            }
        }
    }
}

/// Removes the string at `path` if it holds `${`, returning it.
fn take_env_string(root: &mut Value, path: &JsonPath) -> Option<String> {
    let (last, parent) = path.segments().split_last()?;
    let parent = crate::path::resolve_mut(root, parent)?;
    let is_env = |v: Option<&Value>| matches!(v, Some(Value::String(s)) if s.contains("${"));
    let taken = match (parent, last) {
        (Value::Object(map), Segment::Key(k)) if is_env(map.get(k)) => map.shift_remove(k),
        (Value::Array(items), Segment::Index(i)) if is_env(items.get(*i)) => Some(items.remove(*i)),
        _ => None,
    };
    match taken {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Deserialize, Debug)]
    struct Outer {
        inner: Vec<Inner>,
    }

    #[derive(Deserialize, Debug)]
    struct Inner {
        #[serde(default, deserialize_with = "crate::lax::uint")]
        n: u32,
    }

    #[test]
    fn reports_path_ignored_and_deferred() {
        let v = json!({"inner": [{"n": 1}, {"n": "${N}", "m": 2}], "extra": 0});
        let t: Typed<Outer> = typed(v.clone(), true).expect("typed");
        assert_eq!(t.value.inner[1].n, 0);
        assert_eq!(t.deferred.len(), 1);
        assert_eq!(t.deferred[0].path.to_string(), "inner[1].n");
        let ignored: Vec<String> = t.ignored.iter().map(ToString::to_string).collect();
        assert_eq!(ignored, ["inner[1].m", "extra"]);

        let err = typed::<Outer>(v, false).expect_err("not deferred");
        assert_eq!(err.path.to_string(), "inner[1].n");
        assert!(
            err.message.contains("expected an integer"),
            "{}",
            err.message
        );
    }
}
