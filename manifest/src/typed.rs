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
    pub(crate) ignored: Vec<JsonPath>,
    /// Members whose `${VAR}` value could not stand for the type expected, and were left out so
    /// their defaults apply.
    pub(crate) deferred: Vec<(JsonPath, String)>,
}

/// Why a value is not a `T`.
#[derive(Debug)]
pub(crate) struct TypeError {
    pub(crate) path: JsonPath,
    pub(crate) message: String,
}

/// Deserializes `value` as `T`. With `defer_env`, a member whose value is a string holding a
/// `${VAR}` reference that does not fit the expected type is left out (its default applies) and
/// reported in [`Typed::deferred`], instead of failing.
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
                    deferred.push((path, text));
                    continue;
                }
                let message = e.to_string();
                return Err(TypeError { path, message });
            }
        }
    }
}

/// Removes the object member at `path` if it is a string holding `${`, returning the string.
fn take_env_string(root: &mut Value, path: &JsonPath) -> Option<String> {
    let (Segment::Key(last), parent) = path.segments().split_last()? else {
        return None;
    };
    let parent = parent.iter().try_fold(root, |node, s| match s {
        Segment::Key(k) => node.as_object_mut()?.get_mut(k),
        Segment::Index(i) => node.as_array_mut()?.get_mut(*i),
    })?;
    let map = parent.as_object_mut()?;
    match map.get(last) {
        Some(Value::String(s)) if s.contains("${") => match map.shift_remove(last) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        },
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
        assert_eq!(t.deferred[0].0.to_string(), "inner[1].n");
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
