//! Semantic checks: what JSON Schema cannot see. Each check reports every problem it finds.

use std::collections::HashMap;

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic};
use crate::load::{Located, type_error, unknown_key};
use crate::naming;
use crate::path::JsonPath;
use crate::schema;
use crate::typed::typed;
use crate::{AppConfig, ConnectionSettings, EventConnectionType, EventSettings};

/// The client class of hopeit's apps-client, whose protocol appwire speaks.
const APPS_CLIENT: &str = "hopeit.apps_client.AppsClient";

/// Whether a value still holds a `${VAR}` reference, so that it cannot be checked yet.
fn from_env(s: &str) -> bool {
    s.contains("${")
}

/// Checks hopeit makes while it parses, before templates are applied.
pub(crate) fn before_templates(config: &AppConfig, at: &Located, out: &mut Vec<Diagnostic>) {
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

/// Runs every check on the config after templates.
pub(crate) fn run(config: &AppConfig, at: &Located, deferred: bool, out: &mut Vec<Diagnostic>) {
    names(config, at, out);
    routes(config, at, out);
    event_connections(config, at, out);
    generated_names(config, at, out);
    // Connections may share a section: check each section once.
    let mut checked = std::collections::HashSet::new();
    for (key, conn) in &config.app_connections {
        if checked.insert(conn.settings_key(key)) {
            connection_settings(config, key, at, deferred, out);
        }
    }
    event_settings(config, at, out);
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
        if client != APPS_CLIENT && !from_env(client) {
            let d = if at.written(&path) {
                Diagnostic::warning(Code::Client, format!("app connection `{key}` uses client `{client}`"))
                    .with_help(format!("appwire speaks the protocol of `{APPS_CLIENT}`; a hopeit caller of this manifest loads `{client}` instead"))
            } else {
                Diagnostic::warning(Code::Client, format!("app connection `{key}` names no client"))
                    .with_help(format!("hopeit cannot start a connection without one: add `\"client\": \"{APPS_CLIENT}\"`"))
            };
            out.push(at.key(d, &path, None));
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
                let best = config
                    .app_connections
                    .keys()
                    .map(|k| (strsim::jaro_winkler(&c.app_connection, k), k))
                    .filter(|(s, _)| *s > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                let help = match best {
                    Some((_, k)) => format!("did you mean `{k}`?"),
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

/// The connection's settings section: present, well typed, hosts usable, overrides used.
fn connection_settings(
    config: &AppConfig,
    key: &str,
    at: &Located,
    deferred: bool,
    out: &mut Vec<Diagnostic>,
) {
    let Some(conn) = config.app_connections.get(key) else {
        return;
    };
    let section_key = conn.settings_key(key);
    let Some(section) = config.settings.get(section_key) else {
        if from_env(section_key) {
            return;
        }
        let (path, label) = match &conn.settings {
            Some(_) => (
                JsonPath::from(["app_connections", key, "settings"]),
                "names a missing section",
            ),
            None => (
                JsonPath::from(["app_connections", key]),
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
        return;
    };
    let base = JsonPath::from(["settings", section_key]);
    let parsed = match typed::<ConnectionSettings>(Value::Object(section.clone()), deferred) {
        Ok(t) => t,
        Err(e) => {
            let mut d = type_error(
                at,
                &crate::typed::TypeError {
                    path: base.join(&e.path),
                    message: e.message,
                },
            );
            d.code = Code::SettingsType;
            d.message = format!("settings of app connection `{key}`: {}", d.message);
            if d.help.is_none() {
                d.help = Some(
                    "hopeit's apps-client reads this section when the app starts, and fails on it"
                        .into(),
                );
            }
            out.push(d);
            return;
        }
    };
    for path in &parsed.ignored {
        let parent = path.parent().unwrap_or_default();
        out.push(unknown_key(at, &base.join(path), |_| {
            schema::connection_settings_fields(&parent)
        }));
    }
    let settings = parsed.value;
    hosts(&settings, &base.key("connection_str"), at, out);
    for (event, route) in &settings.routes_override {
        let path = base.key("routes_override").key(event.as_str());
        let called = config
            .events
            .values()
            .flat_map(|e| &e.connections)
            .any(|c| c.app_connection == key && &c.event == event);
        if !called {
            out.push(at.key(
                Diagnostic::warning(
                    Code::UnusedOverride,
                    format!("route override for `{event}`, which no event calls through `{key}`"),
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

/// Every event's settings must parse as hopeit's `EventSettings`, or the app fails to start.
fn event_settings(config: &AppConfig, at: &Located, out: &mut Vec<Diagnostic>) {
    for name in config.events.keys() {
        let Some(section) = config.settings.get(name) else {
            continue;
        };
        let known = ["response_timeout", "logging", "stream"];
        let mut data = serde_json::Map::new();
        for key in known {
            if let Some(v) = section.get(key) {
                data.insert(key.into(), v.clone());
            }
        }
        if let Err(e) = typed::<EventSettings>(Value::Object(data), true) {
            let base = JsonPath::from(["settings", name.as_str()]);
            let mut d = type_error(
                at,
                &crate::typed::TypeError {
                    path: base.join(&e.path),
                    message: e.message,
                },
            );
            d.code = Code::SettingsType;
            d.message = format!("settings of event `{name}`: {}", d.message);
            if d.help.is_none() {
                d.help = Some("hopeit reads `response_timeout`, `logging` and `stream` of an event's section when the app starts, and fails on a wrong value".into());
            }
            out.push(d);
        }
    }
}
