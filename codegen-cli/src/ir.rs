//! The generator's model of what to generate: connections and the events called through them,
//! with the types of their parameters and responses. Built from a manifest and the target apps'
//! OpenAPI specs; emitted by [`crate::emit`].

use indexmap::IndexMap;
use openapiv3::{OpenAPI, Operation, Parameter, ReferenceOr, Schema, SchemaKind, Type};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use appwire_manifest::naming;
use appwire_manifest::{AppConfig, AppConnection, EventConnectionType};

use crate::error::GenerateError;
use crate::ident;
use crate::types::{RustType, TypeSpace, doc_lines};

/// Everything generated from one manifest.
pub(crate) struct Ir {
    /// The caller app's name and version, as written (they may hold `${VAR}`).
    pub(crate) caller: (String, String),
    pub(crate) connections: Vec<ConnectionIr>,
}

/// One app connection: a client type.
pub(crate) struct ConnectionIr {
    pub(crate) key: String,
    pub(crate) type_ident: Ident,
    /// The target app connection as JSON, for the runtime to expand and read.
    pub(crate) target_json: String,
    pub(crate) target: AppConnection,
    pub(crate) settings_key: String,
    /// The settings section as JSON, `${VAR}`s kept for the runtime to expand.
    pub(crate) settings_json: String,
    pub(crate) spec_file: Option<String>,
    pub(crate) methods: Vec<MethodIr>,
    /// Types generated from the connection's spec.
    pub(crate) types: Vec<TokenStream>,
}

/// One target event: a client method.
pub(crate) struct MethodIr {
    pub(crate) event: String,
    pub(crate) ident: Ident,
    pub(crate) http: EventConnectionType,
    /// Caller events that declare this connection.
    pub(crate) callers: Vec<String>,
    /// The default route (a `routes_override` in the settings may change it at run time).
    pub(crate) route: String,
    pub(crate) docs: TokenStream,
    pub(crate) shape: Shape,
}

/// What a method takes and returns.
pub(crate) enum Shape {
    /// From the spec.
    Typed {
        query: Vec<Param>,
        body: Option<Payload>,
        ok: Returned,
        /// Declared non-2xx responses, by status.
        alternatives: Vec<Alternative>,
    },
    /// No spec: the caller names the types.
    Generic,
}

/// A query parameter.
pub(crate) struct Param {
    pub(crate) name: String,
    pub(crate) ident: Ident,
    pub(crate) ty: RustType,
    pub(crate) required: bool,
    pub(crate) docs: Option<String>,
}

/// A POST body.
pub(crate) struct Payload {
    pub(crate) ty: RustType,
    /// A plain value, sent as `{"value": v}`.
    pub(crate) plain: bool,
}

/// How a response body decodes.
pub(crate) struct Returned {
    pub(crate) ty: RustType,
    pub(crate) kind: Decode,
    pub(crate) description: String,
}

/// Decoding of a response body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decode {
    /// JSON as `T`.
    Json,
    /// A plain value: `{"<event>": v}`, or a `text/plain` body.
    Value,
    /// The raw bytes.
    Bytes,
}

/// A declared non-2xx response.
pub(crate) struct Alternative {
    pub(crate) status: u16,
    pub(crate) variant: Ident,
    pub(crate) returned: Returned,
}

/// Specs by connection key, and type replacements by schema name.
pub(crate) struct SpecSet<'a> {
    pub(crate) specs: &'a IndexMap<String, (String, OpenAPI)>,
    pub(crate) replace: &'a IndexMap<String, syn::Path>,
    pub(crate) root: &'a TokenStream,
}

pub(crate) fn build(config: &AppConfig, specs: &SpecSet<'_>) -> Result<Ir, GenerateError> {
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
    if let Some(unknown) = specs.specs.keys().find(|k| !calls.contains_key(k.as_str())) {
        return Err(GenerateError::Options(format!(
            "a spec is given for `{unknown}`, but no event connects through an app connection of that name"
        )));
    }
    let mut connections = Vec::new();
    for (key, events) in calls {
        let target = config.app_connections.get(key).ok_or_else(|| {
            GenerateError::Options(format!("app connection `{key}` is not declared"))
        })?;
        let settings_key = target.settings_key(key).to_owned();
        let settings = config
            .settings
            .get(&settings_key)
            .cloned()
            .unwrap_or_default();
        check_secrets(key, &settings)?;
        let overrides = settings.get("routes_override").and_then(|o| o.as_object());
        let spec = specs.specs.get(key);
        let mut space = spec.map(|(_, s)| TypeSpace::new(s, specs.root, specs.replace));
        let mut methods = Vec::new();
        for (event, (http, callers)) in events {
            let over = overrides
                .and_then(|o| o.get(event))
                .and_then(|r| r.as_str());
            let route = naming::event_route(target.route_target(), event, over);
            let (docs, shape) = match (&spec, &mut space) {
                (Some((file, spec)), Some(space)) => {
                    let op = operation(spec, &route, http).map_err(|m| GenerateError::Spec {
                        file: Some(file.into()),
                        message: format!("app connection `{key}`, event `{event}`: {m}"),
                    })?;
                    let shape =
                        typed_shape(event, op, space).map_err(|e| e.in_file(file.as_ref()))?;
                    (
                        doc_lines(op.summary.as_deref(), op.description.as_deref()),
                        shape,
                    )
                }
                _ => (quote!(), Shape::Generic),
            };
            methods.push(MethodIr {
                event: event.to_owned(),
                ident: ident::ident(&naming::method_name(event)),
                http,
                callers,
                route,
                docs,
                shape,
            });
        }
        let target_json =
            serde_json::to_string(target).map_err(|e| GenerateError::Options(e.to_string()))?;
        connections.push(ConnectionIr {
            key: key.to_owned(),
            type_ident: ident::ident(&naming::type_name(key)),
            target_json,
            target: target.clone(),
            settings_json: serde_json::to_string(&settings)
                .map_err(|e| GenerateError::Options(e.to_string()))?,
            settings_key,
            spec_file: spec.map(|(f, _)| {
                std::path::Path::new(f)
                    .file_name()
                    .map_or_else(|| f.clone(), |n| n.to_string_lossy().into_owned())
            }),
            methods,
            types: space.map(TypeSpace::into_defs).unwrap_or_default(),
        });
    }
    Ok(Ir {
        caller: (config.app.name.clone(), config.app.version.clone()),
        connections,
    })
}

/// Secrets may only come from the environment: generated code must not hold them.
fn check_secrets(
    key: &str,
    settings: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), GenerateError> {
    let ext = settings.get("appwire");
    let secrets = [
        (
            "appwire.hmac.secret",
            ext.and_then(|e| e.get("hmac"))
                .and_then(|h| h.get("secret")),
        ),
        (
            "appwire.bearer_token",
            ext.and_then(|e| e.get("bearer_token")),
        ),
    ];
    for (name, value) in secrets {
        if let Some(v) = value
            && !v
                .as_str()
                .is_some_and(|s| s.trim().starts_with("${") && s.trim().ends_with('}'))
        {
            return Err(GenerateError::Options(format!(
                "settings of app connection `{key}`: `{name}` must be a `${{VAR}}` reference, so that the secret stays out of the generated code"
            )));
        }
    }
    Ok(())
}

/// The spec's operation for a route and method.
fn operation<'s>(
    spec: &'s OpenAPI,
    route: &str,
    http: EventConnectionType,
) -> Result<&'s Operation, String> {
    let item = match spec.paths.paths.get(route) {
        Some(ReferenceOr::Item(item)) => item,
        Some(ReferenceOr::Reference { .. }) => {
            return Err(format!(
                "path `{route}` is a reference, which is not supported"
            ));
        }
        None => {
            let close: Vec<&str> = spec
                .paths
                .paths
                .keys()
                .filter(|p| p.rsplit('/').next() == route.rsplit('/').next())
                .map(String::as_str)
                .collect();
            let hint = if close.is_empty() {
                String::new()
            } else {
                format!(
                    " (the spec has {}; a `route` of the target needs a `routes_override`)",
                    close.join(", ")
                )
            };
            return Err(format!("the spec has no path `{route}`{hint}"));
        }
    };
    let op = match http {
        EventConnectionType::Get => item.get.as_ref(),
        EventConnectionType::Post => item.post.as_ref(),
    };
    op.ok_or_else(|| format!("the spec has no {} operation at `{route}`", http.as_str()))
}

/// The parameters, body and responses of an operation.
fn typed_shape(
    event: &str,
    op: &Operation,
    space: &mut TypeSpace<'_>,
) -> Result<Shape, GenerateError> {
    let base = naming::type_name(event);
    let mut query: Vec<Param> = Vec::new();
    for p in &op.parameters {
        let ReferenceOr::Item(Parameter::Query {
            parameter_data: data,
            ..
        }) = p
        else {
            continue;
        };
        let schema = match &data.format {
            openapiv3::ParameterSchemaOrContent::Schema(s) => s,
            openapiv3::ParameterSchemaOrContent::Content(_) => {
                return Err(GenerateError::spec(format!(
                    "query parameter `{}` has content, not a schema",
                    data.name
                )));
            }
        };
        let ty = space.type_of(schema, &format!("{base}{}", ident::type_name(&data.name)))?;
        // `itemId` and `item_id` are both `item_id` in Rust: the later one gets a `_`.
        let mut param = ident::field(&data.name);
        while query.iter().any(|q| q.ident == param) || param == "body" {
            param = ident::ident(&format!("{}_", param.to_string().trim_start_matches("r#")));
        }
        query.push(Param {
            name: data.name.clone(),
            ident: param,
            ty,
            required: data.required,
            docs: data.description.clone(),
        });
    }
    let body = match &op.request_body {
        Some(ReferenceOr::Item(body)) => match body
            .content
            .get("application/json")
            .and_then(|m| m.schema.as_ref())
        {
            Some(schema) => Some(payload(event, schema, &format!("{base}Body"), space)?),
            None => {
                return Err(GenerateError::spec(format!(
                    "event `{event}`: only JSON request bodies are supported"
                )));
            }
        },
        Some(ReferenceOr::Reference { .. }) => {
            return Err(GenerateError::spec(format!(
                "event `{event}`: a referenced request body is not supported"
            )));
        }
        None => None,
    };
    let mut ok = None;
    let mut alternatives = Vec::new();
    for (status, response) in &op.responses.responses {
        let openapiv3::StatusCode::Code(code) = status else {
            continue;
        };
        let ReferenceOr::Item(response) = response else {
            return Err(GenerateError::spec(format!(
                "event `{event}`: referenced responses are not supported"
            )));
        };
        let returned = returned(
            event,
            response,
            &format!("{base}{}", status_name(*code)),
            space,
        )?;
        if *code == 200 {
            ok = Some(returned);
        } else if !(200..300).contains(code) {
            alternatives.push(Alternative {
                status: *code,
                variant: ident::ident(&status_name(*code)),
                returned,
            });
        }
    }
    let ok =
        ok.ok_or_else(|| GenerateError::spec(format!("event `{event}` declares no 200 response")))?;
    Ok(Shape::Typed {
        query,
        body,
        ok,
        alternatives,
    })
}

/// A request body. A plain value travels as the object `{"value": v}`; hopeit's own spec
/// describes it as it describes a plain result, an object with the one property `<event>`.
fn payload(
    event: &str,
    schema: &ReferenceOr<Schema>,
    hint: &str,
    space: &mut TypeSpace<'_>,
) -> Result<Payload, GenerateError> {
    let plain = single_property(schema, event).or_else(|| single_property(schema, "value"));
    if let Some(inner) = plain {
        return Ok(Payload {
            ty: space.boxed_type_of(inner, hint)?,
            plain: true,
        });
    }
    Ok(Payload {
        ty: space.type_of(schema, hint)?,
        plain: false,
    })
}

fn returned(
    event: &str,
    response: &openapiv3::Response,
    hint: &str,
    space: &mut TypeSpace<'_>,
) -> Result<Returned, GenerateError> {
    let description = response.description.clone();
    let Some((content_type, media)) = response.content.first() else {
        return Ok(Returned {
            ty: RustType {
                tokens: quote!(()),
                optional: false,
            },
            kind: Decode::Json,
            description,
        });
    };
    let Some(schema) = media.schema.as_ref() else {
        return Err(GenerateError::spec(format!(
            "event `{event}`: a `{content_type}` response without a schema"
        )));
    };
    // hopeit reads a text/plain answer as the plain value `{"<event>": text}`.
    if content_type == "text/plain" {
        return Ok(Returned {
            ty: RustType::plain(quote!(::std::string::String)),
            kind: Decode::Value,
            description,
        });
    }
    if content_type != "application/json" {
        let root = space.root();
        return Ok(Returned {
            ty: RustType {
                tokens: quote!(#root::__private::Bytes),
                optional: false,
            },
            kind: Decode::Bytes,
            description,
        });
    }
    // hopeit wraps a plain result as `{"<event>": v}`.
    if let Some(inner) = single_property(schema, event) {
        return Ok(Returned {
            ty: space.boxed_type_of(inner, hint)?,
            kind: Decode::Value,
            description,
        });
    }
    Ok(Returned {
        ty: space.type_of(schema, hint)?,
        kind: Decode::Json,
        description,
    })
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
        Some(r) => ident::type_name(&r.to_lowercase()).to_string(),
        None => format!("Status{code}"),
    }
}

#[cfg(test)]
mod tests {
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
            options: Options::default(),
        };
        let text = generate(&inputs).expect("generated").text;
        assert!(text.contains("body: &str"), "{text}");
        assert!(text.contains("call.value_body(body)"), "{text}");
        assert!(!text.contains("RenameBody"), "{text}");
    }
}
