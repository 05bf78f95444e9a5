//! The model from a manifest and the target apps' specs, every problem collected.

use appwire_manifest::source::JsonSource;
use appwire_manifest::{
    AppConfig, Code, Diagnostic, Diagnostics, EventConnectionType, JsonPath, naming,
};
use indexmap::IndexMap;
use openapiv3::{
    Parameter, ParameterData, ParameterSchemaOrContent, ReferenceOr, Schema, SchemaKind, Type,
};

use super::names::{Namespace, RESERVED_METHODS, RESERVED_TYPES};
use super::streams;
use super::types::TypeSpace;
use super::{
    Alternative, Answer, AnswerEnum, AnswerId, App, CallShape, ClientDef, Decode, Docs, EventDef,
    EventKind, HttpCall, Model, Param, ParamPlace, Payload, Returned, TargetApp, Ty, TypedCall,
};
use crate::ident;
use crate::spec::Spec;

/// A problem of a spec, located in it.
type Problem = Diagnostic;

/// The problems found: for each file, its diagnostics.
pub(crate) type Problems = Vec<Diagnostics>;

/// Builds the model of `config` (read from `manifest`): its clients with the specs of its
/// connections, and its streams with the spec files of their schemas (by file name as written).
pub(crate) fn build(
    config: &AppConfig,
    manifest: &JsonSource,
    specs: &IndexMap<String, Spec>,
    stream_specs: &IndexMap<String, Spec>,
    replace: &IndexMap<String, syn::Path>,
) -> Result<Model, Problems> {
    // The problems of each spec, by connection key.
    let mut problems: IndexMap<&str, Vec<Diagnostic>> = IndexMap::new();
    // Target events by connection, in the order callers first name them.
    let mut calls: IndexMap<&str, IndexMap<&str, (EventConnectionType, Vec<String>)>> =
        IndexMap::new();
    for (caller, event) in &config.events {
        for c in &event.connections {
            let entry = calls
                .entry(c.app_connection.as_str())
                .or_default()
                .entry(c.event.as_str())
                .or_insert((c.kind, Vec::new()));
            if !entry.1.contains(caller) {
                entry.1.push(caller.clone());
            }
        }
    }
    for (key, spec) in specs
        .iter()
        .filter(|(k, _)| !calls.contains_key(k.as_str()))
    {
        let d = spec.error(
            Code::UnusedSpec,
            &JsonPath::root(),
            format!("a spec is given for `{key}`, but no event connects through an app connection of that name"),
        );
        let d = d.with_help(format!(
            "the connections events use: {}",
            list(calls.keys())
        ));
        problems.entry(key).or_default().push(d);
    }

    // Connections grouped by target app, in the order they are first used.
    let mut apps: IndexMap<App, Vec<&str>> = IndexMap::new();
    for key in calls.keys() {
        // The manifest's checks ensure every connection is declared.
        if let Some(conn) = config.app_connections.get(*key) {
            let app = App {
                name: conn.name.clone(),
                version: conn.version.clone(),
            };
            apps.entry(app).or_default().push(key);
        }
    }

    // A module named like a crate of the standard library would shadow it where the code is.
    let mut modules = Namespace::with_reserved(&["alloc", "core", "std", STREAMS]);
    let mut roots = Namespace::with_reserved(RESERVED_TYPES);
    let mut out = Vec::new();
    for (app, keys) in &apps {
        let spec = app_spec(app, keys, specs, &mut problems);
        let module = module_name(&mut modules, app, keys[0]);
        let mut ns = Namespace::with_reserved(RESERVED_TYPES);
        let mut clients = Vec::new();
        for key in keys {
            let type_name = roots.type_name(&naming::type_name(key));
            ns.take(&type_name);
            clients.push((*key, type_name));
        }
        let mut space = spec.map(|(_, s)| TypeSpace::new(s, replace));
        let mut answers: IndexMap<String, AnswerEnum> = IndexMap::new();
        // An event two connections reach by one route is modelled once.
        let mut modelled: IndexMap<(String, EventConnectionType), (Docs, TypedCall)> =
            IndexMap::new();
        let mut defs = Vec::new();
        for (key, type_name) in clients {
            let conn = &config.app_connections[key];
            let settings_key = conn.settings_key(key).to_owned();
            let settings = config
                .settings
                .get(&settings_key)
                .cloned()
                .unwrap_or_default();
            let overrides = settings.get("routes_override").and_then(|o| o.as_object());
            let mut methods = Namespace::with_reserved(RESERVED_METHODS);
            let mut events = Vec::new();
            for (event, (http, callers)) in &calls[key] {
                let over = overrides
                    .and_then(|o| o.get(*event))
                    .and_then(|r| r.as_str());
                let route = naming::event_route(conn.route_target(), event, over);
                let method = methods.value_name_as(ident::ident(&naming::method_name(event)));
                let (docs, shape) = match (&spec, &mut space) {
                    (Some(_), Some(_)) if modelled.contains_key(&(route.clone(), *http)) => {
                        let (docs, typed) = modelled[&(route.clone(), *http)].clone();
                        (docs, CallShape::Typed(typed))
                    }
                    (Some((spec_key, spec)), Some(space)) => {
                        let mut call = Call {
                            connection: key,
                            event,
                            spec,
                            space,
                            ns: &mut ns,
                            answers: &mut answers,
                        };
                        match call.typed(&route, *http) {
                            Ok((docs, typed)) => {
                                modelled
                                    .insert((route.clone(), *http), (docs.clone(), typed.clone()));
                                (docs, CallShape::Typed(typed))
                            }
                            Err(problem) => {
                                problems.entry(spec_key).or_default().push(problem);
                                continue;
                            }
                        }
                    }
                    _ => (Docs::default(), CallShape::Untyped),
                };
                events.push(EventDef {
                    name: (*event).to_owned(),
                    method,
                    callers: callers.clone(),
                    docs,
                    kind: EventKind::Call(HttpCall {
                        method: *http,
                        route,
                        shape,
                    }),
                });
            }
            defs.push(ClientDef {
                key: key.to_owned(),
                type_name,
                plugin: conn.plugin_name.as_ref().map(|name| {
                    let version = conn.plugin_version.as_ref().unwrap_or(&conn.version);
                    (name.clone(), version.clone())
                }),
                settings_key,
                settings_json: serde_json::Value::Object(settings).to_string(),
                events,
            });
        }
        // Answer enums take their names last: a schema keeps its own name.
        let mut answers: Vec<AnswerEnum> = answers.into_values().collect();
        for a in &mut answers {
            a.name = ns.type_name(&format!("{}Response", ident::type_name(&a.event)));
        }
        out.push(TargetApp {
            module,
            app: app.clone(),
            spec_file: spec.map(|(_, s)| file_name(s.file())),
            types: space.map(|s| s.defs).unwrap_or_default(),
            answers,
            clients: defs,
        });
    }
    let streams = streams::build(config, manifest, stream_specs, replace, STREAMS.to_owned());
    let mut problems: Problems = problems
        .into_iter()
        .map(|(key, items)| specs[key].diagnostics(items))
        .collect();
    let streams = match streams {
        Ok(s) => s,
        Err(more) => {
            problems.extend(more);
            None
        }
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Model {
        caller: App {
            name: config.app.name.clone(),
            version: config.app.version.clone(),
        },
        apps: out,
        streams,
    })
}

/// The module of the manifest's own streams.
const STREAMS: &str = "streams";

/// The spec of a target app: the one given for any of its connections. Two different specs
/// for one app are a problem.
fn app_spec<'s, 'a>(
    app: &App,
    keys: &[&'s str],
    specs: &'a IndexMap<String, Spec>,
    problems: &mut IndexMap<&'s str, Vec<Diagnostic>>,
) -> Option<(&'s str, &'a Spec)> {
    let mut given = keys.iter().filter_map(|k| specs.get(*k).map(|s| (*k, s)));
    let first = given.next()?;
    for (key, other) in given {
        if other.text() != first.1.text() {
            let d = other.error(
                Code::ConflictingSpec,
                &JsonPath::root(),
                format!(
                    "app connections `{}` and `{key}` both target app `{}` version `{}`, with different specs (`{}` and `{}`)",
                    first.0,
                    app.name,
                    app.version,
                    first.1.file(),
                    other.file()
                ),
            );
            let d =
                d.with_help("connections to one target app share its types: give its spec once");
            problems.entry(key).or_default().push(d);
        }
    }
    Some(first)
}

/// The module of a target app: its name in snake case, with its version when two target apps
/// share a name; the connection's key when the name comes from the environment.
fn module_name(modules: &mut Namespace, app: &App, key: &str) -> String {
    let base = match app.name.contains("${") {
        true => key.to_owned(),
        false => naming::snakecase(&app.name),
    };
    let name = ident::field(&base);
    if modules.take(&name) {
        return name;
    }
    let versioned = ident::field(&format!("{base}_{}", naming::app_key("", &app.version)));
    modules.value_name_as(versioned)
}

fn file_name(file: &str) -> String {
    std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_owned(), |n| n.to_string_lossy().into_owned())
}

fn list<'a>(names: impl Iterator<Item = &'a &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    match names.is_empty() {
        true => "none".to_owned(),
        false => names.join(", "),
    }
}

/// One event's call being modelled from its operation.
struct Call<'c, 'a> {
    connection: &'c str,
    event: &'c str,
    spec: &'a Spec,
    space: &'c mut TypeSpace<'a>,
    ns: &'c mut Namespace,
    answers: &'c mut IndexMap<String, AnswerEnum>,
}

impl Call<'_, '_> {
    /// A construct of the spec the generator does not support, at `at`.
    fn unsupported(&self, at: JsonPath, message: impl std::fmt::Display) -> Problem {
        let message = format!(
            "{message}, where app connection `{}` calls `{}`",
            self.connection, self.event
        );
        self.spec.error(Code::Unsupported, &at, message)
    }

    fn typed(
        &mut self,
        route: &str,
        http: EventConnectionType,
    ) -> Result<(Docs, TypedCall), Problem> {
        let found = self
            .spec
            .operation(self.connection, self.event, route, http)?;
        let (op, at) = (found.operation, found.path);
        let base = ident::type_name(self.event);
        let mut params: Vec<Param> = Vec::new();
        let mut names = Namespace::with_reserved(&["body"]);
        for (i, p) in op.parameters.iter().enumerate() {
            let here = at.key("parameters").index(i);
            let (data, place) = match p {
                ReferenceOr::Item(Parameter::Query { parameter_data, .. }) => {
                    (parameter_data, ParamPlace::Query)
                }
                // Optional headers, the track ids among them, come from the call's context.
                ReferenceOr::Item(Parameter::Header { parameter_data, .. })
                    if parameter_data.required =>
                {
                    (parameter_data, ParamPlace::Header)
                }
                ReferenceOr::Item(_) => continue,
                ReferenceOr::Reference { .. } => {
                    return Err(self.unsupported(here, "a referenced parameter is not supported"));
                }
            };
            let ty = self.param_type(data, &here, &base, place)?;
            params.push(Param {
                wire: match place {
                    ParamPlace::Header => data.name.to_ascii_lowercase(),
                    ParamPlace::Query => data.name.clone(),
                },
                ident: names.value_name(&data.name),
                ty,
                required: data.required,
                place,
                description: data.description.clone(),
            });
        }
        // hopeit ignores a GET's payload, whatever the spec says of one.
        let request_body = op
            .request_body
            .as_ref()
            .filter(|_| http == EventConnectionType::Post);
        let body = match request_body {
            Some(ReferenceOr::Item(body)) => {
                let here = at.key("requestBody").key("content");
                match body
                    .content
                    .get("application/json")
                    .and_then(|m| m.schema.as_ref())
                {
                    Some(schema) => Some(self.payload(
                        schema,
                        &here.key("application/json").key("schema"),
                        &format!("{base}Body"),
                    )?),
                    None => {
                        return Err(
                            self.unsupported(here, "only JSON request bodies are supported")
                        );
                    }
                }
            }
            Some(ReferenceOr::Reference { .. }) => {
                return Err(self.unsupported(
                    at.key("requestBody"),
                    "a referenced request body is not supported",
                ));
            }
            None => None,
        };
        let mut ok = None;
        let mut alternatives = Vec::new();
        for (status, response) in &op.responses.responses {
            let openapiv3::StatusCode::Code(code) = status else {
                continue;
            };
            let here = at.key("responses").key(code.to_string());
            let ReferenceOr::Item(response) = response else {
                return Err(self.unsupported(here, "a referenced response is not supported"));
            };
            let returned =
                self.returned(response, &here, &format!("{base}{}", status_name(*code)))?;
            if *code == 200 {
                ok = Some(returned);
            } else if !(200..300).contains(code) {
                alternatives.push(Alternative {
                    status: *code,
                    variant: status_name(*code),
                    returned,
                });
            }
        }
        let Some(ok) = ok else {
            let d = self.spec.error(
                Code::MissingOkResponse,
                &at.key("responses"),
                format!("the operation of `{}` declares no 200 response", self.event),
            );
            return Err(d.with_help(
                "hopeit answers an event's result with 200; declare it in `responses`",
            ));
        };
        let answer = match alternatives.is_empty() {
            true => Answer::Plain(ok),
            false => {
                let entry = self.answers.entry(self.event.to_owned());
                let id = AnswerId(entry.index());
                entry.or_insert(AnswerEnum {
                    name: String::new(),
                    event: self.event.to_owned(),
                    ok,
                    alternatives,
                });
                Answer::Declared(id)
            }
        };
        let docs = Docs::new(op.summary.as_deref(), op.description.as_deref());
        Ok((
            docs,
            TypedCall {
                params,
                body,
                answer,
            },
        ))
    }

    fn param_type(
        &mut self,
        data: &ParameterData,
        at: &JsonPath,
        base: &str,
        place: ParamPlace,
    ) -> Result<Ty, Problem> {
        let ParameterSchemaOrContent::Schema(schema) = &data.format else {
            return Err(self.unsupported(
                at.key("content"),
                format!("parameter `{}` has content, not a schema", data.name),
            ));
        };
        let ty = self.space.type_of(
            self.ns,
            schema,
            &at.key("schema"),
            &format!("{base}{}", ident::type_name(&data.name)),
        )?;
        Ok(match (place, ty) {
            // A header travels as text.
            (ParamPlace::Header, _) => Ty::String,
            (_, ty) => ty,
        })
    }

    /// A request body. A plain value travels as the object `{"value": v}`; hopeit's own spec
    /// describes it as it describes a plain result, an object with the one property `<event>`.
    fn payload(
        &mut self,
        schema: &ReferenceOr<Schema>,
        at: &JsonPath,
        hint: &str,
    ) -> Result<Payload, Problem> {
        for key in [self.event, "value"] {
            if let Some(inner) = single_property(schema, key) {
                let at = at.key("properties").key(key);
                return Ok(Payload {
                    ty: self.space.boxed_type_of(self.ns, inner, &at, hint)?,
                    plain: true,
                });
            }
        }
        Ok(Payload {
            ty: self.space.type_of(self.ns, schema, at, hint)?,
            plain: false,
        })
    }

    fn returned(
        &mut self,
        response: &openapiv3::Response,
        at: &JsonPath,
        hint: &str,
    ) -> Result<Returned, Problem> {
        let description = response.description.clone();
        let Some((content_type, media)) = response.content.first() else {
            return Ok(Returned {
                ty: Ty::Unit,
                decode: Decode::Json,
                description,
            });
        };
        let at = at.key("content").key(content_type.as_str());
        let Some(schema) = media.schema.as_ref() else {
            return Err(
                self.unsupported(at, format!("a `{content_type}` response without a schema"))
            );
        };
        let at = at.key("schema");
        // hopeit reads a text/plain answer as the plain value `{"<event>": text}`.
        let (ty, decode) = if content_type == "text/plain" {
            (Ty::String, Decode::Value)
        } else if content_type != "application/json" {
            (Ty::Bytes, Decode::Bytes)
        } else if let Some(inner) = single_property(schema, self.event) {
            // hopeit wraps a plain result as `{"<event>": v}`.
            let at = at.key("properties").key(self.event);
            let ty = self.space.boxed_type_of(self.ns, inner, &at, hint)?;
            (ty, Decode::Value)
        } else {
            (
                self.space.type_of(self.ns, schema, &at, hint)?,
                Decode::Json,
            )
        };
        Ok(Returned {
            ty,
            decode,
            description,
        })
    }
}

/// The schema of `name` when `schema` is an inline object with that one required property.
fn single_property<'s>(
    schema: &'s ReferenceOr<Schema>,
    name: &str,
) -> Option<&'s ReferenceOr<Box<Schema>>> {
    let ReferenceOr::Item(Schema {
        schema_kind: SchemaKind::Type(Type::Object(o)),
        ..
    }) = schema
    else {
        return None;
    };
    (o.properties.len() == 1 && o.required == [name])
        .then(|| o.properties.get(name))
        .flatten()
}

/// A variant name for a status: its reason phrase, e.g. `NotFound`.
fn status_name(code: u16) -> String {
    let reason = http::StatusCode::from_u16(code)
        .ok()
        .and_then(|s| s.canonical_reason())
        .map(|r| r.replace(['-', '\''], " "));
    match reason {
        Some(r) => ident::type_name(&r.to_lowercase()),
        None => format!("Status{code}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(name: &str, version: &str) -> App {
        App {
            name: name.to_owned(),
            version: version.to_owned(),
        }
    }

    #[test]
    fn a_module_is_named_after_its_app_and_versioned_when_the_name_is_taken() {
        let mut modules = Namespace::with_reserved(&["alloc", "core", "std"]);
        assert_eq!(
            module_name(&mut modules, &app("simple-example", "0.30"), "k"),
            "simple_example"
        );
        assert_eq!(
            module_name(&mut modules, &app("simple-example", "0.31"), "k"),
            "simple_example_0x31"
        );
        assert_eq!(
            module_name(&mut modules, &app("std", "1.0"), "k"),
            "std_1x0"
        );
        assert_eq!(
            module_name(&mut modules, &app("${APP}", "1.0"), "conn"),
            "conn"
        );
    }
}

#[cfg(test)]
mod generated {
    use std::path::PathBuf;

    use indexmap::IndexMap;

    use crate::{Inputs, Options, generate};

    /// The request body hopeit's `hopeit_openapi` writes for `event_api(payload=str)`: the same
    /// shape as a plain result, keyed by the event's name. The server reads `{"value": v}`.
    const SPEC: &str = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
      "paths": {"/api/target/1x0/rename": {"post": {
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
          "type": "object", "required": ["rename"], "properties": {"rename": {"type": "string"}},
          "description": "rename string payload"}}}},
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
          "type": "object", "required": ["rename"], "properties": {"rename": {"type": "string"}}}}}}}
      }}}}"#;

    const MANIFEST: &str = r#"{"app": {"name": "caller", "version": "1.0"},
      "app_connections": {"target": {"name": "target", "version": "1.0",
        "client": "hopeit.apps_client.AppsClient"}},
      "settings": {"target": {"connection_str": "http://h:1", "auth_strategy": "UNSECURED"}},
      "events": {"edit": {"type": "POST", "connections": [
        {"app_connection": "target", "event": "rename", "type": "POST"}]}}}"#;

    #[test]
    fn a_plain_payload_in_hopeits_spec_is_sent_as_a_value() {
        let inputs = Inputs {
            manifest_path: PathBuf::from("app-config.json"),
            manifest_text: MANIFEST.to_owned(),
            specs: IndexMap::from([(
                "target".to_owned(),
                (PathBuf::from("openapi.json"), SPEC.to_owned()),
            )]),
            stream_specs: IndexMap::new(),
            options: Options::default(),
        };
        let text = generate(&inputs).expect("generated").text;
        assert!(text.contains("body: &str"), "{text}");
        assert!(text.contains(".value_body(body)"), "{text}");
        assert!(!text.contains("RenameBody"), "{text}");
    }

    /// A spec may give a GET a request body; hopeit ignores a GET's payload, and so does the
    /// generated method.
    #[test]
    fn a_gets_request_body_in_the_spec_is_left_out() {
        const GET_SPEC: &str = r#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
          "paths": {"/api/target/1x0/look": {"get": {
            "requestBody": {"content": {"application/json": {"schema": {"type": "object",
              "properties": {"q": {"type": "string"}}}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {
              "schema": {"type": "object", "required": ["look"],
                "properties": {"look": {"type": "string"}}}}}}}}}}}"#;
        let manifest = MANIFEST.replace(
            r#""event": "rename", "type": "POST""#,
            r#""event": "look", "type": "GET""#,
        );
        let inputs = Inputs {
            manifest_path: PathBuf::from("app-config.json"),
            manifest_text: manifest,
            specs: IndexMap::from([(
                "target".to_owned(),
                (PathBuf::from("openapi.json"), GET_SPEC.to_owned()),
            )]),
            stream_specs: IndexMap::new(),
            options: Options::default(),
        };
        let text = generate(&inputs).expect("generated").text;
        assert!(
            text.contains("pub fn look(&self) -> Call<String>"),
            "{text}"
        );
        assert!(!text.contains("body"), "{text}");
    }
}
