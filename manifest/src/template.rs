//! `{dotted.path}` and `{auto}` substitution, with hopeit's exact semantics
//! (`replace_config_args`).
//!
//! After parsing, hopeit walks the config twice. Every string at a dotted path `P` (such as
//! `app.name` or `events.my_event.write_stream.name`) replaces each `{P}` anywhere in the config,
//! in values and in object keys. A string containing `{auto}` has it replaced by the app key
//! followed by the object keys leading to the string (not the field names), each snake-cased with
//! dots turned into `x`: `events.my_event.write_stream.name: "{auto}"` becomes
//! `my_app.0x30.my_event`.
//!
//! The walk only enters some parts of the config: the `app` descriptor, app connections, events
//! with their connections and streams, plugins, `env` and `settings`. Fields are visited in
//! alphabetical order, object keys in file order; list elements share their list's path, and
//! strings directly inside lists are targets but never sources.

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::naming::auto_key_path;
use crate::path::{JsonPath, Segment, resolve_mut};

/// What a JSON object is to hopeit's walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// A config class: fields visited alphabetically, paths not extended for `{auto}`.
    Class,
    /// A dict: keys visited in order, and each key extends the `{auto}` path.
    Dict,
    /// Not walked at all (`engine`, `server`).
    Opaque,
}

/// One step of the model path used to decide an object's [`Kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step<'a> {
    Field(&'a str),
    Key,
    Item,
}

fn kind(steps: &[Step<'_>]) -> Kind {
    use Step::{Field as F, Item as I, Key as K};
    match steps {
        [] | [F("app")] | [F("app_connections"), K] | [F("plugins"), I] => Kind::Class,
        [F("events"), K] => Kind::Class,
        [F("events"), K, F("connections"), I] => Kind::Class,
        [F("events"), K, F("read_stream" | "write_stream")] => Kind::Class,
        [F("app_connections" | "events" | "env")] | [F("env"), K] => Kind::Dict,
        [F("settings"), ..] => Kind::Dict,
        _ => Kind::Opaque,
    }
}

/// The longest string substitution may make. A `{dotted.path}` chain can double a string at
/// each step; hopeit then runs out of memory, appwire stops.
pub(crate) const MAX_STRING: usize = 1 << 20;

/// Where substitution made a string longer than [`MAX_STRING`].
#[derive(Debug)]
pub(crate) struct TooLarge {
    pub(crate) path: JsonPath,
}

/// Applies hopeit's template substitution to `config`, the JSON form of an
/// [`AppConfig`](crate::AppConfig) with every field present, for the app `app_key`.
pub(crate) fn substitute(config: &mut Value, app_key: &str) -> Result<(), TooLarge> {
    let mut walk = Walk {
        tokens: tokens_in(config).into_iter().collect(),
        too_large: None,
    };
    for _ in 0..2 {
        walk.sources(config, &mut Vec::new(), "", app_key);
    }
    walk.too_large.map_or(Ok(()), Err)
}

struct Walk {
    /// Every `{...}` written anywhere in the config (or brought in by a replacement), so that
    /// sources whose expression appears nowhere skip the whole-config replacement.
    tokens: HashSet<String>,
    /// Set once a string grew past [`MAX_STRING`]: the walk then stops replacing.
    too_large: Option<TooLarge>,
}

impl Walk {
    /// hopeit's `_replace_attrs` / `_replace_dict_items` walk over the object at `location`:
    /// every string found is either an `{auto}` target or a source.
    fn sources(&mut self, root: &mut Value, location: &mut Vec<Segment>, prefix: &str, auto: &str) {
        let kind = kind(&steps_of(location));
        let mut keys: Vec<String> = match resolve_mut(root, location) {
            Some(Value::Object(map)) if kind != Kind::Opaque => map.keys().cloned().collect(),
            _ => return,
        };
        if kind == Kind::Class {
            keys.sort();
        }
        for key in keys {
            let child_prefix = format!("{prefix}.{key}").trim_start_matches('.').to_owned();
            let child_auto = if kind == Kind::Dict {
                auto_key_path(auto, &key)
            } else {
                auto.to_owned()
            };
            location.push(Segment::Key(key));
            self.member(root, location, &child_prefix, &child_auto);
            location.pop();
        }
    }

    /// One member of a walked object, found at `location` (skipped if a replacement renamed it
    /// meanwhile). Objects inside a list are walked with the list's own prefix and `{auto}` path;
    /// strings directly inside a list are left alone.
    fn member(&mut self, root: &mut Value, location: &mut Vec<Segment>, prefix: &str, auto: &str) {
        match resolve_mut(root, location) {
            Some(Value::String(s)) if s.contains("{auto}") => {
                *s = s.replace("{auto}", auto);
                self.tokens.extend(tokens_in_str(s));
            }
            Some(Value::String(s)) => {
                let value = s.clone();
                self.replace_everywhere(root, &format!("{{{prefix}}}"), &value);
            }
            Some(Value::Object(_)) => self.sources(root, location, prefix, auto),
            Some(Value::Array(items)) => {
                for i in 0..items.len() {
                    location.push(Segment::Index(i));
                    self.member_in_list(root, location, prefix, auto);
                    location.pop();
                }
            }
            _ => {}
        }
    }

    fn member_in_list(
        &mut self,
        root: &mut Value,
        location: &mut Vec<Segment>,
        prefix: &str,
        auto: &str,
    ) {
        if matches!(
            resolve_mut(root, location),
            Some(Value::Object(_) | Value::Array(_))
        ) {
            self.member(root, location, prefix, auto);
        }
    }

    /// hopeit's `_replace_in_config(parsed_config, expr, value)`: replaces `expr` by `value` in
    /// every walked string and object key of the config.
    fn replace_everywhere(&mut self, root: &mut Value, expr: &str, value: &str) {
        if self.too_large.is_some() || !self.tokens.contains(expr) {
            return;
        }
        if let Err(path) = replace_node(root, &mut Vec::new(), expr, value) {
            self.too_large = Some(TooLarge { path });
        }
        self.tokens.extend(tokens_in_str(value));
    }
}

/// Replacement inside the node at `location`, entering only what hopeit's walk enters; fails
/// with the path of a string that grew past [`MAX_STRING`].
fn replace_node(
    node: &mut Value,
    location: &mut Vec<Segment>,
    expr: &str,
    value: &str,
) -> Result<(), JsonPath> {
    let grown = |s: &str, location: &[Segment]| {
        let too_large = s.len() > MAX_STRING;
        too_large.then(|| JsonPath::from_segments(location.to_vec()))
    };
    match node {
        Value::String(s) if s.contains(expr) => {
            *s = s.replace(expr, value);
            grown(s, location).map_or(Ok(()), Err)
        }
        Value::Object(map) => {
            let kind = kind(&steps_of(location));
            if kind == Kind::Opaque {
                return Ok(());
            }
            if kind == Kind::Dict {
                rename_keys(map, expr, value);
                if let Some(key) = map.keys().find(|k| k.len() > MAX_STRING) {
                    location.push(Segment::Key(key.clone()));
                    return Err(JsonPath::from_segments(location.to_vec()));
                }
            }
            for (key, child) in map.iter_mut() {
                location.push(Segment::Key(key.clone()));
                replace_node(child, location, expr, value)?;
                location.pop();
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                location.push(Segment::Index(i));
                replace_node(item, location, expr, value)?;
                location.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Renames the keys containing `expr`; like hopeit, a renamed key moves to the end.
fn rename_keys(map: &mut Map<String, Value>, expr: &str, value: &str) {
    let renamed: Vec<String> = map.keys().filter(|k| k.contains(expr)).cloned().collect();
    for key in renamed {
        if let Some(v) = map.shift_remove(&key) {
            map.insert(key.replace(expr, value), v);
        }
    }
}

/// The model path of `location`, for deciding object kinds.
fn steps_of(location: &[Segment]) -> Vec<Step<'_>> {
    let mut steps = Vec::with_capacity(location.len());
    for segment in location {
        let step = match segment {
            Segment::Index(_) => Step::Item,
            Segment::Key(_) if kind(&steps) == Kind::Dict => Step::Key,
            Segment::Key(key) => Step::Field(key),
        };
        steps.push(step);
    }
    steps
}

/// Every `{...}` in a string (no nested braces).
fn tokens_in_str(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find(['{', '}']) {
            Some(close) if after.as_bytes()[close] == b'}' => {
                out.push(rest[open..open + close + 2].to_owned());
                rest = &after[close + 1..];
            }
            Some(close) => rest = &after[close..],
            None => break,
        }
    }
    out
}

fn tokens_in(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => tokens_in_str(s),
        Value::Array(items) => items.iter().flat_map(tokens_in).collect(),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| tokens_in_str(k).into_iter().chain(tokens_in(v)))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn runaway_chains_stop() {
        let mut env = serde_json::Map::new();
        env.insert("k0".into(), json!("xxxxxxxxxxxxxxxx"));
        for i in 1..40 {
            env.insert(
                format!("k{i}"),
                json!(format!("{{env.a.k{0}}}{{env.a.k{0}}}", i - 1)),
            );
        }
        let mut config = json!({"app": {"name": "a", "version": "1"}, "env": {"a": env}});
        let err = substitute(&mut config, "a.1").unwrap_err();
        assert!(err.path.to_string().starts_with("env.a.k"), "{}", err.path);
    }

    #[test]
    fn auto_results_are_sources_too() {
        // The `{auto}` path itself spells `{app.name}`, which the second pass replaces.
        let mut config = json!({"app": {"name": "foo", "version": "1"},
            "settings": {"x{app": {"name}": "{auto}"}}});
        substitute(&mut config, "foo.1").unwrap();
        assert_eq!(config["settings"]["x{app"]["name}"], "foo.1.xfoo");
    }

    #[test]
    fn tokens() {
        assert_eq!(tokens_in_str("a{b}c{d.e}{{f}"), ["{b}", "{d.e}", "{f}"]);
    }

    #[test]
    fn reference_examples() {
        let mut config = json!({
            "app": {"name": "my_app", "version": "0.30"},
            "events": {
                "my_event": {"type": "POST", "write_stream": {"name": "{auto}", "queues": ["AUTO"]}},
                "stream.reader": {"type": "STREAM",
                    "read_stream": {"name": "{events.my_event.write_stream.name}", "consumer_group": "{auto}"}}
            },
            "engine": {"cors_origin": "{auto}"},
            "settings": {
                "my_event": {"path": "/tmp/{auto}", "app": "{app.name}"},
                "{events.my_event.write_stream.name}": {"x": 1}
            }
        });
        substitute(&mut config, "my_app.0x30").unwrap();
        assert_eq!(
            config["events"]["my_event"]["write_stream"]["name"],
            "my_app.0x30.my_event"
        );
        assert_eq!(
            config["events"]["stream.reader"]["read_stream"]["consumer_group"],
            "my_app.0x30.stream.reader"
        );
        assert_eq!(
            config["events"]["stream.reader"]["read_stream"]["name"],
            "my_app.0x30.my_event"
        );
        assert_eq!(
            config["settings"]["my_event"]["path"],
            "/tmp/my_app.0x30.my_event.path"
        );
        assert_eq!(config["settings"]["my_event"]["app"], "my_app");
        assert_eq!(config["settings"]["my_app.0x30.my_event"]["x"], 1);
        // `engine` is not walked.
        assert_eq!(config["engine"]["cors_origin"], "{auto}");
    }
}
