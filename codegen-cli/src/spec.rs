//! An OpenAPI spec as the generator reads it: the parsed document kept with its text, so that
//! each problem found in it is reported at its line, column and JSON path.

use openapiv3::{OpenAPI, Operation, ReferenceOr, Schema};
use serde::de::DeserializeOwned;
use serde_json::Value;

use appwire_manifest::diagnostic::suggest;
use appwire_manifest::path::Segment;
use appwire_manifest::source::JsonSource;
use appwire_manifest::{Code, Diagnostic, Diagnostics, EventConnectionType, JsonPath};

/// Where a `$ref` to a component schema points; the only form the generator follows.
const SCHEMAS: &str = "#/components/schemas/";

/// A target app's OpenAPI 3.0 spec, parsed, with its text.
#[derive(Debug)]
pub(crate) struct Spec {
    openapi: OpenAPI,
    source: JsonSource,
}

/// An operation of the spec, with its JSON path (`paths["/api/app/1x0/event"].get`) to locate
/// what is found in it.
#[derive(Debug)]
pub(crate) struct SpecOperation<'s> {
    pub(crate) operation: &'s Operation,
    pub(crate) path: JsonPath,
}

/// The component schema a `$ref` names, with its JSON path (`components.schemas.Item`). The
/// schema may itself be a `$ref`: a component that is an alias of another.
#[derive(Debug)]
pub(crate) struct Component<'s> {
    pub(crate) name: &'s str,
    pub(crate) schema: &'s ReferenceOr<Schema>,
    pub(crate) path: JsonPath,
}

impl Spec {
    /// Parses the spec `text`; `file` names it in diagnostics (usually its path).
    pub(crate) fn load(file: &str, text: &str) -> Result<Self, Diagnostics> {
        let source = JsonSource::new(file, text);
        let mut de = serde_json::Deserializer::from_str(text);
        let parsed = serde_path_to_error::deserialize::<_, OpenAPI>(&mut de)
            .map_err(serde_path_to_error::Error::into_inner)
            .and_then(|openapi| de.end().map(|()| openapi));
        match parsed {
            Ok(openapi) => Ok(Self { openapi, source }),
            Err(e) => {
                let d = if e.is_data() {
                    type_error(&source, text, &e)
                } else {
                    syntax_error(&source, &e)
                };
                Err(source.diagnostics(vec![d]))
            }
        }
    }

    /// The spec's text.
    pub(crate) fn text(&self) -> &str {
        self.source.source().text()
    }

    /// The name the spec was loaded under.
    pub(crate) fn file(&self) -> &str {
        self.source.source().name()
    }

    /// An error of `code` about the value at `path` in the spec, located there.
    pub(crate) fn error(
        &self,
        code: Code,
        path: &JsonPath,
        message: impl Into<String>,
    ) -> Diagnostic {
        self.locate(Diagnostic::error(code, message), path)
    }

    /// `d` located at the value at `path` in the spec (or at its nearest ancestor written).
    pub(crate) fn locate(&self, d: Diagnostic, path: &JsonPath) -> Diagnostic {
        self.source.at_value(d, path, None)
    }

    /// The diagnostics `items` of this spec, for rendering with its text.
    pub(crate) fn diagnostics(&self, items: Vec<Diagnostic>) -> Diagnostics {
        self.source.diagnostics(items)
    }

    /// The operation that serves `event`, called through app connection `connection` at `route`
    /// with `http`.
    pub(crate) fn operation(
        &self,
        connection: &str,
        event: &str,
        route: &str,
        http: EventConnectionType,
    ) -> Result<SpecOperation<'_>, Diagnostic> {
        let paths = &self.openapi.paths.paths;
        let at = JsonPath::from(["paths", route]);
        let call = format!("where app connection `{connection}` calls `{event}`");
        let item = match paths.get(route) {
            Some(ReferenceOr::Item(item)) => item,
            Some(ReferenceOr::Reference { reference }) => {
                return Err(self
                    .error(
                        Code::Unsupported,
                        &at,
                        format!("path `{route}` is a reference to `{reference}`, {call}"),
                    )
                    .with_help(
                        "write the path item here: referenced path items are not supported",
                    ));
            }
            None => {
                let d = Diagnostic::error(
                    Code::MissingOperation,
                    format!("the spec has no path `{route}`, {call}"),
                );
                let d = match closest_paths(route, paths.keys()) {
                    Closest::SameEvent(found) => d.with_help(format!(
                        "the spec has {found}: check the name and version of app connection \
                         `{connection}`, or, if `{event}` has a `route` of its own in the target \
                         app, give it in the connection's `routes_override`"
                    )),
                    Closest::Similar(found) => d.with_help(format!("did you mean `{found}`?")),
                    Closest::None => d,
                };
                return Err(self.source.at_key(d, &JsonPath::from(["paths"]), None));
            }
        };
        let (method, operation) = match http {
            EventConnectionType::Get => ("get", item.get.as_ref()),
            EventConnectionType::Post => ("post", item.post.as_ref()),
        };
        match operation {
            Some(operation) => Ok(SpecOperation {
                operation,
                path: at.key(method),
            }),
            None => {
                let d = Diagnostic::error(
                    Code::MissingOperation,
                    format!(
                        "the spec has no {} operation at `{route}`, {call}",
                        http.as_str()
                    ),
                );
                let others: Vec<String> = item
                    .iter()
                    .map(|(m, _)| format!("`{}`", m.to_uppercase()))
                    .collect();
                let d = if others.is_empty() {
                    d
                } else {
                    d.with_help(format!(
                        "the spec has {} there: an event connection's `type` is the method the \
                         target event is served with",
                        others.join(", ")
                    ))
                };
                Err(self.source.at_key(d, &at, None))
            }
        }
    }

    /// The component schema `reference` names: `#/components/schemas/<name>`. `at` is the JSON
    /// path of the schema object holding the `$ref`; an error is located at its `$ref`.
    pub(crate) fn component(
        &self,
        reference: &str,
        at: &JsonPath,
    ) -> Result<Component<'_>, Diagnostic> {
        let at = at.key("$ref");
        let unsupported = |why: &str| {
            self.error(
                Code::UnsupportedRef,
                &at,
                format!("`{reference}` {why}, which is not supported"),
            )
            .with_help(format!(
                "appwire follows `$ref`s to `{SCHEMAS}<name>` of the same spec; bundle other \
                 files into it first"
            ))
        };
        let Some(pointer) = reference.strip_prefix(SCHEMAS) else {
            return Err(unsupported("is not a reference to a component schema"));
        };
        if pointer.contains('/') {
            return Err(unsupported("points inside a component schema"));
        }
        // A JSON pointer escapes `/` and `~` in a name as `~1` and `~0`.
        let name = pointer.replace("~1", "/").replace("~0", "~");
        let schemas = self.openapi.components.as_ref().map(|c| &c.schemas);
        if let Some((name, schema)) = schemas.and_then(|s| s.get_key_value(&name)) {
            return Ok(Component {
                name,
                schema,
                path: JsonPath::from(["components", "schemas", name.as_str()]),
            });
        }
        let d = self.error(
            Code::DanglingRef,
            &at,
            format!("`{reference}` names no schema of the spec"),
        );
        Err(match schemas.and_then(|s| suggest(&name, s.keys())) {
            Some(close) => d.with_help(format!("did you mean `{SCHEMAS}{close}`?")),
            None if schemas.is_none_or(|s| s.is_empty()) => {
                d.with_help("the spec has no `components.schemas`")
            }
            None => d,
        })
    }
}

/// The paths of a spec closest to a route it lacks.
enum Closest {
    /// Paths that end as the route does: the same event, probably served at a route of its own.
    SameEvent(String),
    /// A path close enough to be what was meant.
    Similar(String),
    None,
}

/// Which of `paths` a reader who wrote `route` probably meant.
fn closest_paths<'a>(route: &str, paths: impl Iterator<Item = &'a String> + Clone) -> Closest {
    let last = |p: &str| p.rsplit('/').next().map(str::to_owned);
    let same: Vec<String> = paths
        .clone()
        .filter(|p| last(p) == last(route))
        .map(|p| format!("`{p}`"))
        .collect();
    if !same.is_empty() {
        return Closest::SameEvent(same.join(", "));
    }
    match suggest(route, paths) {
        Some(p) => Closest::Similar(p.to_owned()),
        None => Closest::None,
    }
}

/// The diagnostic of a spec that is not JSON, where serde_json stopped.
fn syntax_error(source: &JsonSource, e: &serde_json::Error) -> Diagnostic {
    source
        .json_error(Code::SpecSyntax, "invalid JSON", e)
        .with_help("appwire reads OpenAPI specs as JSON: convert a YAML spec to JSON first")
}

/// The diagnostic of a spec that serde_json could not read as an OpenAPI document (`e`), at the
/// value that is wrong.
fn type_error(source: &JsonSource, text: &str, e: &serde_json::Error) -> Diagnostic {
    // serde_json stops at the first problem: a text that is not JSON further on is that first.
    let root = match serde_json::from_str::<Value>(text) {
        Ok(root) => root,
        Err(syntax) => return syntax_error(source, &syntax),
    };
    let Some((path, message)) = locate_type_error(&root) else {
        // The tree is a document where the text is not: a struct's key written twice, which
        // the tree keeps once.
        return source.json_error(Code::SpecType, "not an OpenAPI 3.0 document", e);
    };
    let d = Diagnostic::error(
        Code::SpecType,
        format!("not an OpenAPI 3.0 document: {message}"),
    );
    let d = match message.strip_prefix("missing field ") {
        Some("`openapi`") if path.segments().is_empty() => d.with_help(
            "appwire reads OpenAPI 3.0 documents, which start with `\"openapi\": \"3.0.3\"`; \
             convert a Swagger 2.0 spec first",
        ),
        Some(field) => d.with_help(format!("add {field} here: OpenAPI 3.0 requires it")),
        None => d,
    };
    source.at_value(d, &path, None)
}

/// The JSON path and message of the first value of `root` that is not what OpenAPI 3.0 allows
/// there, or `None` when `root` is an OpenAPI document.
///
/// serde_path_to_error loses track inside openapiv3's `$ref`-or-item values and flattened
/// objects (paths, responses, parameters, schemas), which are read from a buffer: the node it
/// stops at is read again on its own, and its children tried one by one where the path stops
/// short, until the error is at the node that holds it.
fn locate_type_error(root: &Value) -> Option<(JsonPath, String)> {
    let (mut path, mut message) = failure::<OpenAPI>(root)?;
    // Each step moves to a child, so the depth of the document bounds the loop.
    while let Some(node) = resolve(root, &path)
        && let Some(kind) = Node::at(path.segments())
        && let Some((inner, why)) = kind.failure(node)
    {
        message = why;
        if !inner.segments().is_empty() {
            path = path.join(&inner);
            continue;
        }
        let failing = kind.children(node).into_iter().find(|child| {
            let p = path.join(child);
            Node::at(p.segments())
                .zip(resolve(root, &p))
                .is_some_and(|(k, n)| k.failure(n).is_some())
        });
        match failing {
            Some(child) => path = path.join(&child),
            None => break,
        }
    }
    Some((path, message))
}

/// Why `node` is not a `T`: the path inside it and serde's message.
fn failure<T: DeserializeOwned>(node: &Value) -> Option<(JsonPath, String)> {
    serde_path_to_error::deserialize::<_, T>(node)
        .err()
        .map(|e| (JsonPath::from_serde(e.path()), e.inner().to_string()))
}

/// The node of `root` at `path`.
fn resolve<'v>(root: &'v Value, path: &JsonPath) -> Option<&'v Value> {
    path.segments()
        .iter()
        .try_fold(root, |node, segment| match segment {
            Segment::Key(key) => node.as_object()?.get(key),
            Segment::Index(i) => node.as_array()?.get(*i),
        })
}

/// The kinds of node where serde_path_to_error stops: what is read again on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node {
    Paths,
    PathItem,
    Parameter,
    RequestBody,
    Responses,
    Response,
    Header,
    MediaType,
    Schema,
}

impl Node {
    /// The kind of the node at `path`, from where it is in the document.
    fn at(path: &[Segment]) -> Option<Self> {
        use Segment::{Index, Key};
        let node = match path {
            [Key(c), Key(section), Key(_)] if c == "components" => match section.as_str() {
                "schemas" => Self::Schema,
                "parameters" => Self::Parameter,
                "requestBodies" => Self::RequestBody,
                "responses" => Self::Response,
                "headers" => Self::Header,
                _ => return None,
            },
            [Key(c), ..] if c == "components" && path.len() <= 2 => return None,
            [Key(p)] if p == "paths" => Self::Paths,
            [Key(p), Key(_)] if p == "paths" => Self::PathItem,
            // Before the rules on a last key: a property may have any name.
            [.., Key(k), Key(_)] if k == "properties" => Self::Schema,
            [.., Key(k), Index(_)] if matches!(k.as_str(), "allOf" | "oneOf" | "anyOf") => {
                Self::Schema
            }
            [.., Key(k), Index(_)] if k == "parameters" => Self::Parameter,
            [.., Key(k), Key(_)] if k == "responses" => Self::Response,
            [.., Key(k), Key(_)] if k == "headers" => Self::Header,
            [.., Key(k), Key(_)] if k == "content" => Self::MediaType,
            [.., Key(k)] => match k.as_str() {
                "schema" | "items" | "not" | "additionalProperties" => Self::Schema,
                "requestBody" => Self::RequestBody,
                "responses" => Self::Responses,
                _ => return None,
            },
            _ => return None,
        };
        Some(node)
    }

    /// Why `node` is not of this kind.
    fn failure(self, node: &Value) -> Option<(JsonPath, String)> {
        let found = match self {
            Self::Paths => failure::<openapiv3::Paths>(node),
            Self::PathItem => failure::<openapiv3::PathItem>(node),
            Self::Parameter => failure::<openapiv3::Parameter>(node),
            Self::RequestBody => failure::<openapiv3::RequestBody>(node),
            Self::Responses => failure::<openapiv3::Responses>(node),
            Self::Response => failure::<openapiv3::Response>(node),
            Self::Header => failure::<openapiv3::Header>(node),
            Self::MediaType => failure::<openapiv3::MediaType>(node),
            Self::Schema => failure::<Schema>(node),
        }?;
        if !found.0.segments().is_empty() {
            return Some(found);
        }
        // A parameter and a schema are made of flattened parts, which serde_path_to_error
        // follows when each is read on its own.
        let parts = match self {
            Self::Parameter => vec![failure::<openapiv3::ParameterData>(node)],
            Self::Schema => vec![
                failure::<openapiv3::SchemaData>(node),
                failure::<openapiv3::SchemaKind>(node),
            ],
            _ => Vec::new(),
        };
        let inside = parts
            .into_iter()
            .flatten()
            .find(|(path, _)| !path.segments().is_empty());
        Some(inside.unwrap_or(found))
    }

    /// The children of `node` that openapiv3 reads from a buffer, where serde_path_to_error
    /// cannot follow (relative paths).
    fn children(self, node: &Value) -> Vec<JsonPath> {
        let Some(object) = node.as_object() else {
            return Vec::new();
        };
        let keys = |filter: fn(&str) -> bool| {
            object
                .keys()
                .filter(|k| filter(k))
                .map(|k| JsonPath::from([k.as_str()]))
                .collect()
        };
        match self {
            Self::Paths => keys(|k| k.starts_with('/')),
            Self::Responses => keys(|k| !k.starts_with("x-")),
            Self::Parameter | Self::Header => {
                let mut out = vec![JsonPath::from(["schema"])];
                out.extend(members(object, "content"));
                out
            }
            Self::PathItem
            | Self::RequestBody
            | Self::Response
            | Self::MediaType
            | Self::Schema => Vec::new(),
        }
    }
}

/// The paths of the members of the object `key` of `object`.
fn members(object: &serde_json::Map<String, Value>, key: &str) -> Vec<JsonPath> {
    object
        .get(key)
        .and_then(Value::as_object)
        .map(|m| {
            m.keys()
                .map(|k| JsonPath::from([key, k.as_str()]))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec with one GET event, `list_items`, whose answer refers to `#/components/schemas/Item`.
    const SPEC: &str = r##"{
  "openapi": "3.0.3",
  "info": {"title": "target", "version": "1.0"},
  "paths": {
    "/api/target/1x0/list-items": {
      "get": {
        "parameters": [{"name": "limit", "in": "query", "schema": {"type": "integer"}}],
        "responses": {"200": {"description": "items", "content": {"application/json": {
          "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}}}}
      }
    },
    "/api/target/1x0/other": {"$ref": "#/paths/~1api~1target~1x0~1list-items"}
  },
  "components": {"schemas": {
    "Item": {"type": "object", "properties": {"id": {"type": "string"}}},
    "a/b": {"type": "string"}
  }}
}"##;

    fn spec() -> Spec {
        Spec::load("openapi.json", SPEC).expect("a valid spec")
    }

    /// Code, `line:col` and message of a diagnostic of `spec`.
    fn seen(spec: &Spec, d: &Diagnostic) -> (Code, String, String) {
        let at = d.location(spec.source.source()).expect("located");
        (
            d.code,
            format!("{}:{}", at.line, at.column),
            d.message.clone(),
        )
    }

    /// Code, `line:col` and message of the one diagnostic of a spec that does not load.
    fn refused(text: &str) -> (Code, String, String, Option<String>) {
        let diagnostics = Spec::load("openapi.json", text).expect_err("a spec with a fault");
        assert_eq!(diagnostics.items().len(), 1, "{diagnostics}");
        let d = &diagnostics.items()[0];
        let at = d.location(diagnostics.source()).expect("located");
        (
            d.code,
            format!("{}:{}", at.line, at.column),
            d.message.clone(),
            d.help.clone(),
        )
    }

    #[test]
    fn the_specs_of_the_fixtures_load() {
        for file in ["inventory.openapi.json", "simple-example.openapi.json"] {
            let path = format!("{}/tests/fixtures/{file}", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).expect("fixture");
            let loaded = Spec::load(&path, &text)
                .map(drop)
                .map_err(|d| d.to_string());
            assert_eq!(loaded, Ok(()), "{file}");
        }
    }

    #[test]
    fn invalid_json_is_reported_at_its_line_and_column() {
        let (code, at, message, help) = refused("{\"openapi\": \"3.0.3\",\n  \"info\": }");
        assert_eq!(code, Code::SpecSyntax);
        assert_eq!(at, "2:11");
        assert_eq!(message, "invalid JSON: expected value");
        assert!(help.is_some_and(|h| h.contains("YAML")));
        let (code, at, _, _) = refused(&format!("{SPEC} ]"));
        assert_eq!(
            (code, at.as_str()),
            (Code::SpecSyntax, "18:3"),
            "trailing text"
        );
    }

    #[test]
    fn a_wrong_type_deep_in_the_document_is_reported_at_its_value() {
        // The `required` of the query parameter, inside a path item, an operation, a
        // parameter list and a parameter: the last three read from buffers by openapiv3.
        let text = SPEC.replace(r#""in": "query","#, r#""in": "query", "required": "yes","#);
        let (code, at, message, _) = refused(&text);
        assert_eq!(code, Code::SpecType);
        assert_eq!(at, "7:69");
        assert_eq!(
            message,
            "not an OpenAPI 3.0 document: invalid type: string \"yes\", expected a boolean"
        );
        let path = |text: &str| {
            let diagnostics = Spec::load("openapi.json", text).expect_err("a spec with a fault");
            diagnostics.items()[0]
                .path
                .as_ref()
                .map(ToString::to_string)
        };
        assert_eq!(
            path(&text).as_deref(),
            Some(r#"paths["/api/target/1x0/list-items"].get.parameters[0].required"#)
        );
        // Below buffered parts: a parameter's schema, a response among responses, an array's
        // items, one of an `allOf`.
        for (from, to, expected) in [
            (
                r#"{"type": "integer"}}]"#,
                r#"{"type": 5}}]"#,
                r#"paths["/api/target/1x0/list-items"].get.parameters[0].schema.type"#,
            ),
            (
                r#"{"description": "items""#,
                r#"{"description": 5"#,
                r#"paths["/api/target/1x0/list-items"].get.responses["200"].description"#,
            ),
            (
                r##"{"$ref": "#/components/schemas/Item"}"##,
                r#"{"type": "object", "required": "id"}"#,
                r#"paths["/api/target/1x0/list-items"].get.responses["200"].content["application/json"].schema.items.required"#,
            ),
            (
                r#""a/b": {"type": "string"}"#,
                r#""a/b": {"allOf": [{"type": "string"}, {"nullable": "no"}]}"#,
                r#"components.schemas["a/b"].allOf[1].nullable"#,
            ),
        ] {
            let text = SPEC.replace(from, to);
            assert_ne!(text, SPEC, "{from}");
            assert_eq!(path(&text).as_deref(), Some(expected), "{to}");
        }

        // Inside a component schema's property.
        let text = SPEC.replace(
            r#""id": {"type": "string"}"#,
            r#""id": {"type": "string", "maxLength": "ten"}"#,
        );
        let (code, at, message, _) = refused(&text);
        assert_eq!(code, Code::SpecType);
        assert_eq!(at, "15:85");
        assert!(message.contains("\"ten\""), "{message}");
        assert_eq!(
            path(&text).as_deref(),
            Some("components.schemas.Item.properties.id.maxLength")
        );
    }

    #[test]
    fn a_swagger_document_is_told_to_be_converted() {
        let (code, at, message, help) =
            refused(r#"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#);
        assert_eq!(code, Code::SpecType);
        assert_eq!(at, "1:1");
        assert_eq!(
            message,
            "not an OpenAPI 3.0 document: missing field `openapi`"
        );
        assert!(help.is_some_and(|h| h.contains("Swagger 2.0")));
    }

    #[test]
    fn an_operation_is_found_by_route_and_method() {
        let spec = spec();
        let found = spec
            .operation(
                "target",
                "list_items",
                "/api/target/1x0/list-items",
                EventConnectionType::Get,
            )
            .map(|op| op.path.to_string());
        assert_eq!(
            found.ok().as_deref(),
            Some(r#"paths["/api/target/1x0/list-items"].get"#)
        );
    }

    #[test]
    fn a_missing_path_names_the_paths_of_the_same_event() {
        let spec = spec();
        let d = spec
            .operation(
                "target",
                "list_items",
                "/api/target/0x30/list-items",
                EventConnectionType::Get,
            )
            .expect_err("no such path");
        assert_eq!(
            seen(&spec, &d),
            (
                Code::MissingOperation,
                "4:3".to_owned(),
                "the spec has no path `/api/target/0x30/list-items`, where app connection `target` calls `list_items`".to_owned()
            )
        );
        let help = d.help.unwrap_or_default();
        assert!(help.contains("`/api/target/1x0/list-items`"), "{help}");
        assert!(help.contains("routes_override"), "{help}");

        let d = spec
            .operation(
                "target",
                "list_itmes",
                "/api/target/1x0/list-itmes",
                EventConnectionType::Get,
            )
            .expect_err("no such path");
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `/api/target/1x0/list-items`?")
        );
    }

    #[test]
    fn a_missing_method_names_the_methods_there() {
        let spec = spec();
        let d = spec
            .operation(
                "target",
                "list_items",
                "/api/target/1x0/list-items",
                EventConnectionType::Post,
            )
            .expect_err("no POST");
        assert_eq!(
            seen(&spec, &d),
            (
                Code::MissingOperation,
                "5:5".to_owned(),
                "the spec has no POST operation at `/api/target/1x0/list-items`, where app connection `target` calls `list_items`".to_owned()
            )
        );
        assert!(
            d.help
                .is_some_and(|h| h.starts_with("the spec has `GET` there"))
        );
    }

    #[test]
    fn a_referenced_path_item_is_unsupported() {
        let spec = spec();
        let d = spec
            .operation(
                "target",
                "other",
                "/api/target/1x0/other",
                EventConnectionType::Get,
            )
            .expect_err("a reference");
        assert_eq!(
            (d.code, seen(&spec, &d).1.as_str()),
            (Code::Unsupported, "12:30")
        );
    }

    #[test]
    fn component_references_resolve_or_say_why_not() {
        let spec = spec();
        let at = JsonPath::from([
            "paths",
            "/api/target/1x0/list-items",
            "get",
            "responses",
            "200",
        ])
        .key("content")
        .key("application/json")
        .key("schema")
        .key("items");
        let item = spec
            .component("#/components/schemas/Item", &at)
            .map(|c| (c.name, c.path.to_string()));
        assert_eq!(
            item.ok(),
            Some(("Item", "components.schemas.Item".to_owned()))
        );
        let escaped = spec
            .component("#/components/schemas/a~1b", &at)
            .map(|c| c.name);
        assert_eq!(escaped.ok(), Some("a/b"));

        let d = spec
            .component("#/components/schemas/Iten", &at)
            .expect_err("dangling");
        assert_eq!(
            seen(&spec, &d),
            (
                Code::DanglingRef,
                "9:57".to_owned(),
                "`#/components/schemas/Iten` names no schema of the spec".to_owned()
            )
        );
        assert_eq!(
            d.help.as_deref(),
            Some("did you mean `#/components/schemas/Item`?")
        );
        assert_eq!(
            d.path.map(|p| p.to_string()).as_deref(),
            Some(
                r#"paths["/api/target/1x0/list-items"].get.responses["200"].content["application/json"].schema.items["$ref"]"#
            )
        );

        for reference in [
            "other.json#/Item",
            "#/components/schemas/Item/properties/id",
        ] {
            let d = spec.component(reference, &at).err().map(|d| d.code);
            assert_eq!(d, Some(Code::UnsupportedRef), "{reference}");
        }
    }
}
