//! The model of the manifest's own streams: a publisher per `write_stream`, a subscriber and a
//! handler runner per STREAM event, and the payload types of the streams' schemas.
//!
//! The embedded specs are the runtime's `WriteSpec` and `ReadSpec`, computed here from the
//! event's effective stream settings, `${VAR}`s kept as written for the runtime to expand.

use std::collections::HashMap;

use appwire_manifest::source::JsonSource;
use appwire_manifest::{
    AppConfig, Code, Diagnostic, EventStreams, JsonPath, ReadStream, StreamExtension, WriteStream,
    naming,
};
use indexmap::IndexMap;
use openapiv3::ReferenceOr;
use serde_json::{Value, json};

use super::build::Problems;
use super::names::{Namespace, RESERVED_STREAM_TYPES, RESERVED_TYPES};
use super::types::TypeSpace;
use super::{PublisherDef, StreamEvent, Streams, SubscriberDef, Ty, TypeDef};
use crate::ident;
use crate::spec::Spec;

/// The streams of `config`'s events in the module `module`, `None` when no event reads or
/// writes one. `specs` are the schemas' spec files, by file name as the manifest writes it.
pub(crate) fn build(
    config: &AppConfig,
    manifest: &JsonSource,
    specs: &IndexMap<String, Spec>,
    replace: &IndexMap<String, syn::Path>,
    module: String,
) -> Result<Option<Streams>, Problems> {
    let mut in_manifest = Vec::new();
    let mut streamed = Vec::new();
    for event in config.events.keys() {
        match config.event_streams(event) {
            Ok(Some(s)) => streamed.push((event.as_str(), s)),
            Ok(None) => {}
            Err(e) => in_manifest.push(manifest.at_value(
                Diagnostic::error(Code::Type, e.to_string()),
                &JsonPath::from(["events", event.as_str()]),
                None,
            )),
        }
    }
    if streamed.is_empty() && in_manifest.is_empty() {
        return Ok(None);
    }

    // Payload types by stream name, the schemas' files in the order they are first used.
    let mut ns = Namespace::with_reserved(RESERVED_TYPES);
    for name in RESERVED_STREAM_TYPES {
        ns.take(name);
    }
    let mut payloads: HashMap<String, Ty> = HashMap::new();
    let mut by_file: IndexMap<&str, Vec<(&str, &str)>> = IndexMap::new();
    for (_, s) in &streamed {
        let read = s.read.as_ref().map(|r| (&r.name, &r.extension));
        let write = s.write.as_ref().map(|w| (&w.name, &w.extension));
        for (stream, ext) in read.into_iter().chain(write) {
            match ext.schema_ref() {
                Some((file, pointer)) => by_file.entry(file).or_default().push((stream, pointer)),
                None => {
                    payloads.insert(stream.clone(), Ty::Json);
                }
            }
        }
    }
    let mut in_specs: IndexMap<&str, Vec<Diagnostic>> = IndexMap::new();
    let mut types: Vec<TypeDef> = Vec::new();
    for (file, streams) in by_file {
        let at = |stream: &str| JsonPath::from(["settings", stream, "appwire", "schema"]);
        let Some(spec) = specs.get(file) else {
            for (stream, _) in streams {
                if payloads.contains_key(stream) {
                    continue;
                }
                let d = Diagnostic::error(
                    Code::Io,
                    format!(
                        "the schema of stream `{stream}` is in `{file}`, which could not be read"
                    ),
                )
                .with_help("the file is taken relative to the manifest's folder");
                in_manifest.push(manifest.at_value(d, &at(stream), None));
                payloads.insert(stream.to_owned(), Ty::Json);
            }
            continue;
        };
        let mut space = TypeSpace::with_defs(spec, replace, std::mem::take(&mut types));
        for (stream, pointer) in streams {
            if payloads.contains_key(stream) {
                continue;
            }
            let reference = format!("#{pointer}");
            // A pointer that names no component is the manifest's fault: located there.
            if let Err(e) = spec.component(&reference, &JsonPath::root()) {
                let mut d = Diagnostic::error(
                    e.code,
                    format!("the schema of stream `{stream}`: {} in `{file}`", e.message),
                );
                d.help = e.help;
                in_manifest.push(manifest.at_value(d, &at(stream), None));
                payloads.insert(stream.to_owned(), Ty::Json);
                continue;
            }
            let schema = ReferenceOr::Reference { reference };
            let ty = match space.type_of(&mut ns, &schema, &JsonPath::root(), stream) {
                Ok(ty) => ty,
                Err(d) => {
                    in_specs.entry(file).or_default().push(d);
                    Ty::Json
                }
            };
            payloads.insert(stream.to_owned(), ty);
        }
        types = space.defs;
    }
    if !in_manifest.is_empty() || !in_specs.is_empty() {
        let mut problems = Vec::new();
        if !in_manifest.is_empty() {
            problems.push(manifest.diagnostics(in_manifest));
        }
        for (file, items) in in_specs {
            problems.push(specs[file].diagnostics(items));
        }
        return Err(problems);
    }

    // Functions first, then handler traits: a schema keeps its own name.
    let mut functions = Namespace::with_reserved(STREAM_FUNCTIONS);
    let mut events = Vec::new();
    for (event, s) in &streamed {
        let base = ident::ident(&naming::method_name(event));
        let bare = base.trim_start_matches("r#").to_owned();
        let subscriber = s.read.as_ref().map(|r| SubscriberDef {
            runner: functions.value_name_as(base.clone()),
            function: functions.value_name_as(format!("{bare}_subscriber")),
            handler: String::new(),
            stream: r.name.clone(),
            payload: payloads[&r.name].clone(),
            spec_json: read_spec(config, event, r, s).to_string(),
            spec_const: functions.value_name_as(format!("{}_READ", bare.to_uppercase())),
            output: s
                .write
                .as_ref()
                .map(|w| (w.name.clone(), payloads[&w.name].clone())),
        });
        let publisher = s.write.as_ref().map(|w| PublisherDef {
            function: match subscriber {
                Some(_) => functions.value_name_as(format!("{bare}_publisher")),
                None => functions.value_name_as(base.clone()),
            },
            stream: w.name.clone(),
            payload: payloads[&w.name].clone(),
            spec_json: write_spec(config, event, w, s).to_string(),
            spec_const: functions.value_name_as(format!("{}_WRITE", bare.to_uppercase())),
        });
        events.push(StreamEvent {
            name: (*event).to_owned(),
            publisher,
            subscriber,
        });
    }
    for e in &mut events {
        if let Some(sub) = &mut e.subscriber {
            sub.handler = ns.type_name(&e.name);
        }
    }
    Ok(Some(Streams {
        module,
        types,
        events,
    }))
}

/// The functions the `streams` module imports.
const STREAM_FUNCTIONS: &[&str] = &["publisher", "runner", "subscriber"];

/// The payload's Python type: required of a stream appwire generates for.
fn type_name(ext: &StreamExtension) -> String {
    ext.type_name.clone().unwrap_or_default()
}

/// The runtime's `WriteSpec` of `event`'s `write_stream`.
fn write_spec(config: &AppConfig, event: &str, w: &WriteStream, s: &EventStreams) -> Value {
    let engine = &config.engine;
    json!({
        "event": event,
        "stream": w.name,
        "queues": w.queues,
        "queue_strategy": w.queue_strategy,
        "type": type_name(&w.extension),
        "serialization": s.config.serialization.unwrap_or(engine.default_stream_serialization),
        "compression": s.config.compression.unwrap_or(engine.default_stream_compression),
        "target_max_len": s.config.target_max_len,
        "dedup_window_ms": w.extension.dedup_window_ms,
        "app_key": config.app_key(),
    })
}

/// The runtime's `ReadSpec` of `event`'s `read_stream`.
fn read_spec(config: &AppConfig, event: &str, r: &ReadStream, s: &EventStreams) -> Value {
    json!({
        "event": event,
        "keys": r.keys,
        "consumer_group": r.consumer_group,
        "type": type_name(&r.extension),
        "batch_size": s.config.batch_size,
        "timeout": s.config.timeout,
        "throttle_ms": s.config.throttle_ms,
        "read_stream_timeout_ms": config.engine.read_stream_timeout,
        "max_deliveries": r.extension.max_deliveries,
        "visibility_timeout_ms": r.extension.visibility_timeout_ms,
        "group_start": r.extension.group_start,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use appwire_manifest::{Code, Diagnostic};
    use indexmap::IndexMap;

    use crate::{GenerateError, Inputs, Options, generate};

    const SPEC: &str = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
      "paths": {}, "components": {"schemas": {"OrderPlaced": {"type": "object",
        "properties": {"id": {"type": "string"}}}}}}"#;

    fn manifest(appwire: &str) -> String {
        format!(
            r#"{{"app": {{"name": "shop", "version": "1.0"}},
  "settings": {{"shop.orders": {{"appwire": {appwire}}}}},
  "events": {{"place_order": {{"type": "POST", "write_stream": {{"name": "shop.orders"}}}}}}}}"#
        )
    }

    /// The diagnostics of generating `manifest` with `spec.json` holding `spec`, if given.
    fn problems(manifest: String, spec: Option<&str>) -> Vec<Diagnostic> {
        let inputs = Inputs {
            manifest_path: PathBuf::from("app-config.json"),
            manifest_text: manifest,
            specs: IndexMap::new(),
            stream_specs: spec
                .map(|s| {
                    (
                        "spec.json".to_owned(),
                        (PathBuf::from("spec.json"), s.to_owned()),
                    )
                })
                .into_iter()
                .collect(),
            options: Options::default(),
        };
        match generate(&inputs) {
            Err(GenerateError::Diagnostics(d)) => {
                d.iter().flat_map(|d| d.items().to_vec()).collect()
            }
            Err(e) => panic!("{e}"),
            Ok(g) => panic!("generated:\n{}", g.text),
        }
    }

    #[test]
    fn a_stream_without_a_type_is_an_error() {
        let found = problems(manifest("{}"), None);
        assert!(
            found.iter().any(|d| d.code == Code::MissingStreamType),
            "{found:?}"
        );
    }

    #[test]
    fn a_schema_file_that_was_not_read_is_located_in_the_manifest() {
        let m = manifest(
            r#"{"type": "shop.Order", "schema": "spec.json#/components/schemas/OrderPlaced"}"#,
        );
        let found = problems(m, None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, Code::Io);
        assert!(!found[0].labels.is_empty(), "{found:?}");
    }

    #[test]
    fn a_pointer_to_no_schema_is_a_dangling_ref_with_a_suggestion() {
        let m = manifest(
            r#"{"type": "shop.Order", "schema": "spec.json#/components/schemas/OrderPlace"}"#,
        );
        let found = problems(m, Some(SPEC));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].code, Code::DanglingRef);
        assert!(!found[0].labels.is_empty(), "{found:?}");
        assert!(
            found[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("OrderPlaced")),
            "{found:?}"
        );
    }

    #[test]
    fn a_schema_types_the_publisher() {
        let m = manifest(
            r#"{"type": "shop.Order", "schema": "spec.json#/components/schemas/OrderPlaced"}"#,
        );
        let inputs = Inputs {
            manifest_path: PathBuf::from("app-config.json"),
            manifest_text: m,
            specs: IndexMap::new(),
            stream_specs: IndexMap::from([(
                "spec.json".to_owned(),
                (PathBuf::from("spec.json"), SPEC.to_owned()),
            )]),
            options: Options::default(),
        };
        let text = generate(&inputs).expect("generated").text;
        assert!(
            text.contains("-> Result<Publisher<OrderPlaced>, Error>"),
            "{text}"
        );
    }
}
