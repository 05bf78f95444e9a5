//! Checks of Redis Streams: events and the streams they read and write, and appwire's settings
//! of each stream (`settings.<stream>.appwire`).

use std::collections::HashMap;

use indexmap::IndexMap;

use super::from_env;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::fields::known_fields;
use crate::located::Located;
use crate::path::JsonPath;
use crate::typed::typed;
use crate::{AppConfig, EventType, StreamExtension, stream_key};

/// An event's use of a stream.
struct Use<'a> {
    event: &'a str,
    /// `read` or `written`.
    how: &'static str,
    /// The path of the stream's name in the event.
    at: JsonPath,
}

pub(super) fn check(config: &AppConfig, at: &Located, deferred: bool, out: &mut Vec<Diagnostic>) {
    stream_events(config, at, out);
    // Templates have replaced a read stream's `{auto}` by now; it was reported before them.
    let refused: Vec<JsonPath> = out
        .iter()
        .filter(|d| d.code == Code::AutoReadStream)
        .filter_map(|d| d.path.clone())
        .collect();
    for (stream, uses) in &streams(config, &refused) {
        extension(config, stream, uses, at, deferred, out);
    }
    shared_groups(config, &refused, at, out);
}

fn stream_events(config: &AppConfig, at: &Located, out: &mut Vec<Diagnostic>) {
    for (name, event) in &config.events {
        if event.kind == EventType::Stream && event.read_stream.is_none() {
            out.push(at.value(
                Diagnostic::error(
                    Code::MissingReadStream,
                    format!("STREAM event `{name}` has no read_stream"),
                )
                .with_help("add `\"read_stream\": {\"name\": \"<stream>\", \"consumer_group\": \"{auto}\"}`: hopeit cannot start a STREAM event without a stream to read"),
                &JsonPath::from(["events", name.as_str(), "type"]),
                Some("reads no stream".into()),
            ));
        }
    }
}

/// Every stream some event reads or writes, in file order, with its uses. Names not known yet
/// (`${VAR}`) and the names at `refused` are left out.
fn streams<'a>(config: &'a AppConfig, refused: &[JsonPath]) -> IndexMap<String, Vec<Use<'a>>> {
    let mut streams: IndexMap<String, Vec<Use<'_>>> = IndexMap::new();
    for (name, event) in &config.events {
        let base = JsonPath::from(["events", name.as_str()]);
        let read = event
            .read_stream
            .as_ref()
            .map(|r| (r.name.clone(), "read", base.key("read_stream")));
        let written = config
            .write_stream_name(name)
            .map(|n| (n, "written", base.key("write_stream")));
        for (stream, how, path) in read.into_iter().chain(written) {
            let at = path.key("name");
            if from_env(&stream) || refused.contains(&at) {
                continue;
            }
            streams.entry(stream).or_default().push(Use {
                event: name,
                how,
                at,
            });
        }
    }
    streams
}

/// `settings.<stream>.appwire`: well typed, only known keys, and a payload type.
fn extension(
    config: &AppConfig,
    stream: &str,
    uses: &[Use<'_>],
    at: &Located,
    deferred: bool,
    out: &mut Vec<Diagnostic>,
) {
    let section = JsonPath::from(["settings", stream]);
    let base = section.key("appwire");
    let value = config.settings.get(stream).and_then(|s| s.get("appwire"));
    let mut type_deferred = false;
    if let Some(value) = value {
        let parsed = match typed::<StreamExtension>(value.clone(), deferred) {
            Ok(t) => t,
            Err(e) => {
                out.push(extension_error(stream, &base, &e, at));
                return;
            }
        };
        for path in &parsed.ignored {
            let parent = path.parent().unwrap_or_default();
            let mut d = at.unknown_key(&base.join(path), &known_fields::<StreamExtension>(&parent));
            d.severity = Severity::Error;
            d.message = format!(
                "unknown key `{}` in appwire's settings of stream `{stream}`",
                path.last_key().unwrap_or_default()
            );
            out.push(d);
        }
        for d in &parsed.deferred {
            type_deferred |= d.path == JsonPath::from(["type"]);
            out.push(at.deferred(&base, d));
        }
        if parsed.value.type_name.is_some() || type_deferred {
            return;
        }
    }
    let users = uses
        .iter()
        .map(|u| format!("{} by `{}`", u.how, u.event))
        .collect::<Vec<_>>()
        .join(", ");
    // A warning: a manifest read only for its calls still loads; generating a publisher or
    // subscriber of the stream is refused.
    let d = Diagnostic::warning(
        Code::MissingStreamType,
        format!(
            "stream `{stream}` ({users}) has no payload type: `{}` is missing",
            base.key("type")
        ),
    )
    .with_help(format!(
        "add `\"settings\": {{\"{stream}\": {{\"appwire\": {{\"type\": \"<module>.<Class>\"}}}}}}` with the payload's Python `module.qualname`: hopeit consumers pick the payload class by each message's `type`"
    ));
    out.push(if at.written(&base) {
        at.key(d, &base, Some("no `type`".into()))
    } else if at.written(&section) {
        at.key(d, &section, Some("no `appwire.type`".into()))
    } else {
        at.value(d, &uses[0].at, Some("no payload type".into()))
    });
}

/// A wrong value of a stream's `appwire` settings, with its own code where one fits.
fn extension_error(
    stream: &str,
    base: &JsonPath,
    e: &crate::typed::TypeError,
    at: &Located,
) -> Diagnostic {
    let path = base.join(&e.path);
    match e.path.last_key() {
        Some("max_deliveries") if e.message.contains("at least 1") => at.value(
            Diagnostic::error(
                Code::MaxDeliveries,
                format!("`max_deliveries` of stream `{stream}` is 0: every message would be dead-lettered before its first delivery"),
            )
            .with_help("give 1 or more: a message delivered that many times without an ack is dead-lettered (the default is 5)"),
            &path,
            None,
        ),
        Some("schema") => at.value(
            Diagnostic::error(
                Code::StreamSchema,
                format!("`schema` of stream `{stream}`: {}", e.message),
            )
            .with_help("name the spec file, relative to the manifest, then `#` and the JSON pointer of the payload's schema in it"),
            &path,
            None,
        ),
        _ => at.settings_error(
            base,
            e,
            &format!("appwire's settings of stream `{stream}`"),
            "appwire reads this section to publish to the stream or to subscribe to it",
        ),
    }
}

/// Events of one consumer group that read the same key share its messages: each gets only
/// some. The payload type is per stream, so this is also the only way two events of one group
/// could disagree on it.
fn shared_groups(
    config: &AppConfig,
    refused: &[JsonPath],
    at: &Located,
    out: &mut Vec<Diagnostic>,
) {
    let mut readers: HashMap<(String, &str), &str> = HashMap::new();
    for (name, event) in &config.events {
        let Some(read) = &event.read_stream else {
            continue;
        };
        let group = read.consumer_group.as_str();
        let path = JsonPath::from(["events", name.as_str(), "read_stream", "name"]);
        if from_env(group) || from_env(&read.name) || refused.contains(&path) {
            continue;
        }
        let mut shared: IndexMap<&str, Vec<String>> = IndexMap::new();
        for queue in &read.queues {
            let key = stream_key(&read.name, queue);
            match readers.get(&(key.clone(), group)) {
                Some(first) if *first != name.as_str() => {
                    shared.entry(first).or_default().push(key);
                }
                Some(_) => {}
                None => {
                    readers.insert((key, group), name);
                }
            }
        }
        for (first, keys) in shared {
            let keys = keys
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(at.value(
                Diagnostic::warning(
                    Code::SharedConsumerGroup,
                    format!("events `{first}` and `{name}` both read {keys} in consumer group `{group}`: each receives only part of the messages"),
                )
                .with_help("give each event its own consumer_group (`{auto}` does) so that each reads every message, unless splitting the messages between them is intended"),
                &JsonPath::from(["events", name.as_str(), "read_stream", "consumer_group"]),
                Some(format!("also `{first}`'s group")),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Code, Expansion, Manifest};

    fn codes(text: &str) -> Vec<(Code, String)> {
        let (_, diagnostics) = Manifest::read("m.json", text, Expansion::Deferred);
        diagnostics
            .items()
            .iter()
            .map(|d| {
                (
                    d.code,
                    d.path.as_ref().map(ToString::to_string).unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn every_stream_fault_is_reported() {
        // Errors first, then warnings, each in file order.
        let text = r#"{"app": {"name": "shop", "version": "1.0"},
          "events": {
            "a": {"type": "STREAM", "read_stream": {"name": "s", "consumer_group": "g", "queues": ["AUTO", "high"]}},
            "b": {"type": "STREAM", "read_stream": {"name": "s", "consumer_group": "g", "queues": ["high"]}},
            "c": {"type": "STREAM"},
            "d": {"type": "POST", "write_stream": {"name": "{auto}"}}
          },
          "settings": {"s": {"appwire": {"max_deliveries": 0}}}}"#;
        assert_eq!(
            codes(text),
            [
                (Code::MissingReadStream, "events.c.type".into()),
                (
                    Code::MaxDeliveries,
                    "settings.s.appwire.max_deliveries".into()
                ),
                (
                    Code::SharedConsumerGroup,
                    "events.b.read_stream.consumer_group".into()
                ),
                (Code::MissingStreamType, "events.d.write_stream.name".into()),
            ]
        );
    }

    #[test]
    fn a_type_from_the_environment_is_left_to_run_time() {
        let text = r#"{"app": {"name": "shop", "version": "1.0"},
          "events": {"d": {"type": "POST", "write_stream": {"name": "s"}}},
          "settings": {"s": {"appwire": {"type": "${PAYLOAD_TYPE}", "max_deliveries": "${N}"}}}}"#;
        let found = codes(text);
        assert!(
            found.iter().all(|(c, _)| *c == Code::EnvDeferred),
            "{found:?}"
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
