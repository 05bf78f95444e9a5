//! Semantic checks: what JSON Schema cannot see. Each check reports every problem it finds.

mod streams;

use std::collections::HashMap;

use indexmap::IndexMap;
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, suggest};
use crate::env;
use crate::fields::known_fields;
use crate::located::Located;
use crate::naming;
use crate::path::{JsonPath, Segment};
use crate::typed::{Deferred, typed};
use crate::{AppConfig, ConnectionSettings, EventConnectionType, SettingsError};

/// The client class of hopeit's apps-client, whose protocol appwire speaks.
const APPS_CLIENT: &str = "hopeit.apps_client.AppsClient";

/// Whether a value still holds a `${VAR}` reference, so that it cannot be checked yet.
fn from_env(s: &str) -> bool {
    s.contains("${")
}

/// Checks made before templates are applied: hopeit's own checks while it parses, and, without
/// an environment, the names whose `${VAR}` leaves the app key or routes to run time.
pub(crate) fn before_templates(
    config: &AppConfig,
    at: &Located,
    deferred: bool,
    out: &mut Vec<Diagnostic>,
) {
    if deferred {
        env_names(config, at, out);
    }
    for (name, event) in &config.events {
        if let Some(stream) = &event.read_stream
            && stream.name.contains("{auto}")
        {
            let path = JsonPath::from(["events", name.as_str(), "read_stream", "name"]);
            out.push(at.value(
                Diagnostic::error(Code::AutoReadStream, "a read stream's name cannot be `{auto}`")
                    .with_help("name the stream the event reads, e.g. `{events.<writer>.write_stream.name}`"),
                &path,
                None,
            ));
        }
    }
}

/// Names and versions from the environment: the app key, routes and `{auto}` names built from
/// them are only known at run time.
fn env_names(config: &AppConfig, at: &Located, out: &mut Vec<Diagnostic>) {
    let mut named: Vec<(JsonPath, &str)> = vec![
        (JsonPath::from(["app", "name"]), &config.app.name),
        (JsonPath::from(["app", "version"]), &config.app.version),
    ];
    for (key, conn) in &config.app_connections {
        let base = JsonPath::from(["app_connections", key.as_str()]);
        named.push((base.key("name"), &conn.name));
        named.push((base.key("version"), &conn.version));
        for (field, value) in [
            ("plugin_name", &conn.plugin_name),
            ("plugin_version", &conn.plugin_version),
        ] {
            if let Some(v) = value {
                named.push((base.key(field), v));
            }
        }
    }
    for (path, value) in named.into_iter().filter(|(_, v)| from_env(v)) {
        out.push(at.value(
            Diagnostic::warning(
                Code::EnvDeferred,
                format!("`{value}` is only known at run time: so are the app key and the routes built from it"),
            )
            .with_help("generated clients compute these routes when they start; `appwire check --env` checks them"),
            &path,
            Some("from the environment".into()),
        ));
    }
}

/// Runs every check on the config after templates.
pub(crate) fn run(config: &AppConfig, at: &Located, deferred: bool, out: &mut Vec<Diagnostic>) {
    names(config, at, out);
    routes(config, at, out);
    event_connections(config, at, out);
    generated_names(config, at, out);
    // Connections may share a section: check each section once, for all of them. Sections of
    // connections with another client than hopeit's are that client's business.
    let mut sections: IndexMap<&str, Vec<&str>> = IndexMap::new();
    for (key, conn) in &config.app_connections {
        if conn.client == APPS_CLIENT
            || !at.written(&JsonPath::from(["app_connections", key.as_str(), "client"]))
        {
            sections
                .entry(conn.settings_key(key))
                .or_default()
                .push(key);
        }
    }
    for (section, connections) in &sections {
        connection_settings(config, section, connections, at, deferred, out);
    }
    event_settings(config, at, deferred, out);
    streams::check(config, at, deferred, out);
}

fn empty_name(at: &Located, path: JsonPath, what: &str) -> Diagnostic {
    at.value(
        Diagnostic::error(Code::EmptyName, format!("{what} is empty"))
            .with_help("hopeit refuses an app descriptor with an empty name or version"),
        &path,
        None,
    )
}

fn names(config: &AppConfig, at: &Located, out: &mut Vec<Diagnostic>) {
    for (field, value) in [("name", &config.app.name), ("version", &config.app.version)] {
        if value.is_empty() {
            out.push(empty_name(
                at,
                JsonPath::from(["app", field]),
                &format!("app {field}"),
            ));
        }
    }
    for (i, plugin) in config.plugins.iter().enumerate() {
        for (field, value) in [("name", &plugin.name), ("version", &plugin.version)] {
            if value.is_empty() {
                let path = JsonPath::from(["plugins"]).index(i).key(field);
                out.push(empty_name(at, path, &format!("plugin {field}")));
            }
        }
    }
    for (key, conn) in &config.app_connections {
        for (field, value) in [("name", &conn.name), ("version", &conn.version)] {
            if value.is_empty() {
                let path = JsonPath::from(["app_connections", key.as_str(), field]);
                out.push(empty_name(
                    at,
                    path,
                    &format!("app connection `{key}`'s {field}"),
                ));
            }
        }
        let client = &conn.client;
        let path = JsonPath::from(["app_connections", key.as_str(), "client"]);
        if !at.written(&path) {
            out.push(
                at.key(
                    Diagnostic::error(
                        Code::Client,
                        format!("app connection `{key}` names no client"),
                    )
                    .with_help(format!(
                        "hopeit fails at start without one: add `\"client\": \"{APPS_CLIENT}\"`"
                    )),
                    &JsonPath::from(["app_connections", key.as_str()]),
                    Some("no `client`".into()),
                ),
            );
        } else if client != APPS_CLIENT && !from_env(client) {
            out.push(at.value(
                Diagnostic::warning(Code::Client, format!("app connection `{key}` uses client `{client}`"))
                    .with_help(format!("appwire speaks the protocol of `{APPS_CLIENT}`, and leaves this connection's settings to its own client")),
                &path,
                None,
            ));
        }
    }
}

fn routes(config: &AppConfig, at: &Located, out: &mut Vec<Diagnostic>) {
    for (name, event) in &config.events {
        if event.route.as_deref() == Some("") {
            let path = JsonPath::from(["events", name.as_str(), "route"]);
            out.push(at.value(
                Diagnostic::error(Code::EmptyRoute, "empty route override")
                    .with_help("remove `route` to use the default route, or give one: `/abs/path` or `rel/path` (under `/api/`)"),
                &path,
                None,
            ));
        }
    }
}

/// Undeclared app connections and targets called with two methods.
fn event_connections(config: &AppConfig, at: &Located, out: &mut Vec<Diagnostic>) {
    let mut methods: HashMap<(&str, &str), (EventConnectionType, JsonPath)> = HashMap::new();
    for (name, event) in &config.events {
        for (i, c) in event.connections.iter().enumerate() {
            let path = JsonPath::from(["events", name.as_str(), "connections"]).index(i);
            if !config.app_connections.contains_key(&c.app_connection)
                && !from_env(&c.app_connection)
            {
                let help = match suggest(&c.app_connection, config.app_connections.keys()) {
                    Some(k) => format!("did you mean `{k}`?"),
                    None => "declare it in `app_connections`; hopeit accepts the manifest but fails when the event calls it".into(),
                };
                out.push(at.value(
                    Diagnostic::error(
                        Code::UndeclaredConnection,
                        format!("event `{name}` connects through `{}`, which is not declared in app_connections", c.app_connection),
                    )
                    .with_help(help),
                    &path.key("app_connection"),
                    Some("not declared".into()),
                ));
                continue;
            }
            let target = (c.app_connection.as_str(), c.event.as_str());
            match methods.get(&target) {
                Some((kind, first)) if *kind != c.kind => {
                    let d = at.value(
                        Diagnostic::error(
                            Code::ConflictingType,
                            format!(
                                "`{}` of `{}` is called with {} here and with {} at {first}",
                                c.event, c.app_connection, c.kind.as_str(), kind.as_str()
                            ),
                        )
                        .with_help("an event is served with one method: use the same type in every connection to it"),
                        &path.key("type"),
                        None,
                    );
                    out.push(d);
                }
                Some(_) => {}
                None => {
                    methods.insert(target, (c.kind, path.key("type")));
                }
            }
        }
    }
}

/// Names that collide once turned into Rust: connection types, and the methods of one
/// connection.
fn generated_names(config: &AppConfig, at: &Located, out: &mut Vec<Diagnostic>) {
    let mut types: HashMap<String, &str> = HashMap::new();
    for key in config.app_connections.keys() {
        let ty = naming::type_name(key);
        if let Some(first) = types.get(&ty) {
            out.push(at.key(
                Diagnostic::error(
                    Code::NameCollision,
                    format!("app connections `{first}` and `{key}` would both generate the type `{ty}`"),
                )
                .with_help("rename one of the connections"),
                &JsonPath::from(["app_connections", key.as_str()]),
                None,
            ));
        } else {
            types.insert(ty, key);
        }
    }
    let mut methods: HashMap<(&str, String), &str> = HashMap::new();
    for (name, event) in &config.events {
        for (i, c) in event.connections.iter().enumerate() {
            let method = naming::method_name(&c.event);
            match methods.get(&(c.app_connection.as_str(), method.clone())) {
                Some(first) if *first != c.event => {
                    let path = JsonPath::from(["events", name.as_str(), "connections"])
                        .index(i)
                        .key("event");
                    out.push(at.value(
                        Diagnostic::error(
                            Code::NameCollision,
                            format!(
                                "target events `{first}` and `{}` of `{}` would both generate the method `{method}`",
                                c.event, c.app_connection
                            ),
                        )
                        .with_help("the generated client names a method after its event in snake case; these two events cannot share a connection type"),
                        &path,
                        None,
                    ));
                }
                Some(_) => {}
                None => {
                    methods.insert((c.app_connection.as_str(), method), &c.event);
                }
            }
        }
    }
}

/// A connection settings section, shared by `connections`: present, well typed, hosts usable,
/// overrides used.
fn connection_settings(
    config: &AppConfig,
    section_key: &str,
    connections: &[&str],
    at: &Located,
    deferred: bool,
    out: &mut Vec<Diagnostic>,
) {
    let names = connections
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let Some(section) = config.settings.get(section_key) else {
        if from_env(section_key) {
            return;
        }
        for key in connections {
            let (path, label) = match &config.app_connections[*key].settings {
                Some(_) => (
                    JsonPath::from(["app_connections", *key, "settings"]),
                    "names a missing section",
                ),
                None => (
                    JsonPath::from(["app_connections", *key]),
                    "has no settings section",
                ),
            };
            out.push(at.key(
                Diagnostic::error(
                    Code::SettingsMissing,
                    format!("app connection `{key}` has no settings: section `{section_key}` is missing"),
                )
                .with_help(format!(
                    "add `\"settings\": {{\"{section_key}\": {{\"connection_str\": \"http://host:port\"}}}}`; hopeit fails at start without it"
                )),
                &path,
                Some(label.into()),
            ));
        }
        return;
    };
    let base = JsonPath::from(["settings", section_key]);
    let parsed = match typed::<ConnectionSettings>(Value::Object(section.clone()), deferred) {
        Ok(t) => t,
        Err(e) => {
            out.push(at.settings_error(
                &base,
                &e,
                &format!("settings of app connection {names}"),
                "hopeit's apps-client reads this section when the app starts, and fails on it",
            ));
            return;
        }
    };
    for path in &parsed.ignored {
        let parent = path.parent().unwrap_or_default();
        out.push(at.unknown_key(
            &base.join(path),
            &known_fields::<ConnectionSettings>(&parent),
        ));
    }
    for d in &parsed.deferred {
        out.push(at.deferred(&base, d));
    }
    let settings = parsed.value;
    hosts(&settings, &base.key("connection_str"), at, out);
    // With an environment, a `${VAR}` is already its value: only the text as written tells a
    // reference from a secret written out.
    if deferred {
        literal_secrets(&settings, &base.key("appwire"), &names, at, out);
    }
    for (event, route) in &settings.routes_override {
        let path = base.key("routes_override").key(event.as_str());
        let called = config
            .events
            .values()
            .flat_map(|e| &e.connections)
            .any(|c| connections.contains(&c.app_connection.as_str()) && &c.event == event);
        if !called {
            out.push(at.key(
                Diagnostic::warning(
                    Code::UnusedOverride,
                    format!("route override for `{event}`, which no event calls through {names}"),
                )
                .with_help("keys of routes_override are target event names; this entry changes nothing"),
                &path,
                None,
            ));
        }
        if route.is_empty() {
            out.push(at.value(
                Diagnostic::error(Code::EmptyRoute, "empty route override").with_help(
                    "give a route (`/abs/path`, or `rel/path` under `/api/`) or remove the entry",
                ),
                &path,
                None,
            ));
        }
    }
}

/// Secrets must be `${VAR}` references. The runtime takes a secret written out, but generated
/// code embeds the settings section as written, so code generation refuses one (it makes this
/// warning an error): the secret would end up in the code and in version control.
fn literal_secrets(
    settings: &ConnectionSettings,
    base: &JsonPath,
    names: &str,
    at: &Located,
    out: &mut Vec<Diagnostic>,
) {
    let ext = &settings.appwire;
    let secrets = [
        (
            JsonPath::from(["hmac", "secret"]),
            ext.hmac.as_ref().map(|h| &h.secret),
        ),
        (JsonPath::from(["bearer_token"]), ext.bearer_token.as_ref()),
        (
            JsonPath::from(["auth_passphrase"]),
            ext.auth_passphrase.as_ref(),
        ),
    ];
    for (path, secret) in secrets {
        let Some(secret) = secret else { continue };
        let text = secret.expose();
        let references = env::references(text);
        // A default is written out as much as a literal: it is the secret whenever the
        // variable is unset.
        let (what, help) = if references.iter().any(|r| r.default_value().is_some()) {
            (
                "has a default written in the manifest",
                "remove the default (`:-...`) and set the variable where the client runs",
            )
        } else if references.is_empty() || !outside(text, &references).trim().is_empty() {
            (
                "is written in the manifest",
                "write a `${VAR}` reference instead and set the variable where the client runs",
            )
        } else {
            continue;
        };
        let name = format!("appwire.{path}");
        out.push(at.value(
            Diagnostic::warning(
                Code::LiteralSecret,
                format!("the secret `{name}` of app connection {names} {what}"),
            )
            .with_help(format!(
                "{help}: generated code embeds the settings as written, so `appwire generate` refuses a secret in them"
            )),
            &base.join(&path),
            None,
        ));
    }
}

/// The parts of `text` outside the `references`.
fn outside(text: &str, references: &[env::Reference]) -> String {
    let mut rest = String::new();
    let mut from = 0;
    for r in references {
        rest.push_str(&text[from..r.span.start]);
        from = r.span.end;
    }
    rest.push_str(&text[from..]);
    rest
}

/// Each host of `connection_str` must be a base URL hopeit can append a route to.
fn hosts(settings: &ConnectionSettings, path: &JsonPath, at: &Located, out: &mut Vec<Diagnostic>) {
    for host in settings.hosts() {
        if from_env(host) {
            continue;
        }
        let trimmed = host.trim();
        let problem = if trimmed.is_empty() {
            Some(("an empty host", "remove the extra comma".to_owned()))
        } else if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) {
            Some((
                "a host without http:// or https://",
                format!("write `http://{trimmed}`"),
            ))
        } else {
            None
        };
        if let Some((what, help)) = problem {
            out.push(
                at.value(
                    Diagnostic::error(
                        Code::HostUrl,
                        format!("connection_str has {what}: `{host}`"),
                    )
                    .with_help(help),
                    path,
                    None,
                ),
            );
        } else if trimmed.ends_with('/') {
            out.push(at.value(
                Diagnostic::warning(Code::HostUrl, format!("connection_str has a host ending in `/`: `{host}`"))
                    .with_help("hopeit appends routes that start with `/`: its apps-client calls `//api/...` and gets 404; remove the trailing slash"),
                path,
                None,
            ));
        }
    }
}

/// Every event's effective settings must be readable, or hopeit fails to start the app. A
/// wrong value that comes from the environment is only known at run time.
fn event_settings(config: &AppConfig, at: &Located, deferred: bool, out: &mut Vec<Diagnostic>) {
    // Events sharing a stream read its section each: a wrong value there is reported once.
    let mut reported: Vec<JsonPath> = Vec::new();
    for name in config.events.keys() {
        let Err(SettingsError::Invalid { path, message, .. }) = config.event_settings(name) else {
            continue;
        };
        if reported.contains(&path) {
            continue;
        }
        reported.push(path.clone());
        let mut settings = Value::Object(
            config
                .settings
                .iter()
                .map(|(k, v)| (k.clone(), Value::Object(v.clone())))
                .collect(),
        );
        let value = match path.segments() {
            [Segment::Key(root), rest @ ..] if root == "settings" => {
                crate::path::resolve_mut(&mut settings, rest).cloned()
            }
            _ => None,
        };
        if deferred
            && let Some(Value::String(text)) = value.filter(|v| v.as_str().is_some_and(from_env))
        {
            out.push(at.deferred(&JsonPath::root(), &Deferred { path, text }));
            continue;
        }
        let e = crate::typed::TypeError {
            path,
            message,
            deferred: None,
        };
        out.push(at.settings_error(
            &JsonPath::root(),
            &e,
            &format!("settings of event `{name}`"),
            "hopeit reads an event's settings (and those of the stream it writes or reads) when the app starts, and fails on a wrong value",
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::{Code, Diagnostics, Expansion, Manifest};

    /// A manifest whose connection's `appwire` settings are `ext`.
    fn manifest(ext: &str) -> String {
        format!(
            r#"{{"app": {{"name": "caller", "version": "1.0"}},
  "app_connections": {{"target": {{"name": "target", "version": "1.0",
    "client": "hopeit.apps_client.AppsClient"}}}},
  "settings": {{"target": {{"connection_str": "http://h:1",
    "appwire": {ext}}}}},
  "events": {{"call": {{"type": "GET", "connections": [
    {{"app_connection": "target", "event": "list", "type": "GET"}}]}}}}}}"#
        )
    }

    fn secret_warnings(text: &str, expansion: Expansion<'_>) -> (Vec<String>, Diagnostics) {
        let (_, diagnostics) = Manifest::read("m.json", text, expansion);
        let found = diagnostics
            .items()
            .iter()
            .filter(|d| d.code == Code::LiteralSecret)
            .map(|d| {
                let at = d.location(diagnostics.source()).expect("located");
                format!("{}:{} {}", at.line, at.column, d.message)
            })
            .collect();
        (found, diagnostics)
    }

    #[test]
    fn a_secret_written_out_is_a_warning_at_its_value() {
        let text = manifest(
            r#"{"bearer_token": "tok-123",
    "hmac": {"service_id": "caller", "secret": "${HMAC_KEY}"}}"#,
        );
        let (found, diagnostics) = secret_warnings(&text, Expansion::Deferred);
        assert_eq!(
            found,
            [
                "5:33 the secret `appwire.bearer_token` of app connection `target` is written in the manifest"
            ],
            "{diagnostics}"
        );
        assert!(!diagnostics.has_errors(), "{diagnostics}");
        assert!(
            !diagnostics.to_string().contains("tok-123"),
            "the secret is not repeated: {diagnostics}"
        );
    }

    #[test]
    fn references_alone_are_accepted_and_a_default_or_extra_text_is_not() {
        for (secret, literal) in [
            ("${KEY}", false),
            (" ${KEY_A}${KEY_B} ", false),
            ("${KEY:-dev-key}", true),
            ("prefix-${KEY}", true),
            ("${}", true),
        ] {
            let text = manifest(&format!(r#"{{"auth_passphrase": "{secret}"}}"#));
            let (found, diagnostics) = secret_warnings(&text, Expansion::Deferred);
            assert_eq!(found.len(), usize::from(literal), "{secret}: {diagnostics}");
        }
        let text = manifest(r#"{"auth_passphrase": "${KEY:-dev-key}"}"#);
        let (found, _) = secret_warnings(&text, Expansion::Deferred);
        assert!(
            found[0].ends_with("has a default written in the manifest"),
            "{found:?}"
        );
    }

    #[test]
    fn with_an_environment_a_secret_is_not_told_from_its_value() {
        let env = HashMap::from([("KEY".to_owned(), "the-key".to_owned())]);
        let text = manifest(r#"{"bearer_token": "${KEY}"}"#);
        let (found, diagnostics) = secret_warnings(&text, Expansion::Env(&env));
        assert!(found.is_empty(), "{diagnostics}");
    }

    #[test]
    fn code_generation_can_make_the_warning_an_error() {
        let text = manifest(r#"{"hmac": {"service_id": "caller", "secret": "k"}}"#);
        let manifest =
            Manifest::parse("m.json", text, Expansion::Deferred).expect("a warning only");
        let denied = manifest.warnings().deny(Code::LiteralSecret);
        assert!(denied.has_errors(), "{denied}");
        assert!(
            denied
                .to_string()
                .starts_with("m.json:5:60: error[literal-secret]"),
            "{denied}"
        );
    }
}
