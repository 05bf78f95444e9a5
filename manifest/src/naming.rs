//! hopeit's name normalization: app keys, `{auto}` paths and HTTP routes.
//!
//! These functions reproduce `hopeit.server.names` and `app_route_name` exactly, so a route
//! computed here is the route a hopeit server mounts and its apps-client calls.

/// hopeit's `snakecase`: `-`, `.` and whitespace become `_`, the first character is lowercased
/// and every later ASCII uppercase letter `X` becomes `_x`.
///
/// ```
/// assert_eq!(appwire_manifest::naming::snakecase("simpleExample"), "simple_example");
/// assert_eq!(appwire_manifest::naming::snakecase("HTTPServer"), "h_t_t_p_server");
/// ```
pub fn snakecase(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        // Python's `\s` also matches the ASCII separators U+001C..U+001F.
        let c = if c == '-' || c == '.' || c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c) {
            '_'
        } else {
            c
        };
        if i == 0 {
            out.extend(c.to_lowercase());
        } else if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// hopeit's `spinalcase`: [`snakecase`] with every `_` turned into `-`.
pub fn spinalcase(name: &str) -> String {
    snakecase(name).replace('_', "-")
}

/// One component of an `{auto}` path or app key: dots become `x`, then [`snakecase`].
fn auto_component(name: &str) -> String {
    snakecase(&name.replace('.', "x"))
}

/// hopeit's `auto_path`: components joined by `.`, each with dots replaced by `x` and snake-cased.
///
/// ```
/// assert_eq!(appwire_manifest::naming::auto_path(["simple-example", "0.30"]), "simple_example.0x30");
/// ```
pub fn auto_path<'a>(components: impl IntoIterator<Item = &'a str>) -> String {
    components
        .into_iter()
        .map(auto_component)
        .collect::<Vec<_>>()
        .join(".")
}

/// The key hopeit gives an app (`AppDescriptor.app_key()`): `auto_path(name, version)`.
pub fn app_key(name: &str, version: &str) -> String {
    auto_path([name, version])
}

/// hopeit's `route_name`: `/` followed by the components, each with dots replaced by `x` and
/// spinal-cased, joined by `/`.
pub fn route_name<'a>(components: impl IntoIterator<Item = &'a str>) -> String {
    let parts: Vec<String> = components
        .into_iter()
        .map(|c| spinalcase(&c.replace('.', "x")))
        .collect();
    format!("/{}", parts.join("/"))
}

/// The app (and optional plugin) an event route belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteTarget<'a> {
    /// App name.
    pub name: &'a str,
    /// App version.
    pub version: &'a str,
    /// `(plugin name, plugin version)` for an `OnApp` plugin event.
    pub plugin: Option<(&'a str, &'a str)>,
}

/// hopeit's `app_route_name`: the route of an event under `prefix` (`api` for endpoints, `mgmt`
/// for the start/stop routes of `STREAM` and `SERVICE` events).
///
/// Without an override the components are the prefix, app name, app version, plugin name and
/// version (when given) and the event name split on `.`. An override that starts with `/` is used
/// as one component without its slash; any other override is appended to the prefix. Overrides
/// are mangled like every other component, exactly as hopeit does.
pub fn app_route(
    prefix: &str,
    target: RouteTarget<'_>,
    event: &str,
    override_route: Option<&str>,
) -> String {
    match override_route {
        Some(route) => match route.strip_prefix('/') {
            Some(absolute) => route_name([absolute]),
            None => route_name([prefix, route]),
        },
        None => {
            let plugin = target.plugin.map(|(n, v)| [n, v]);
            route_name(
                [prefix, target.name, target.version]
                    .into_iter()
                    .chain(plugin.iter().flatten().copied())
                    .chain(event.split('.')),
            )
        }
    }
}

/// The HTTP route of an event: [`app_route`] under `api`.
///
/// ```
/// use appwire_manifest::naming::{event_route, RouteTarget};
/// let app = RouteTarget { name: "simple-example", version: "0.30", plugin: None };
/// assert_eq!(event_route(app, "collector.query_concurrently", None),
///            "/api/simple-example/0x30/collector/query-concurrently");
/// assert_eq!(event_route(app, "x", Some("custom/route_B")), "/api/custom/route--b");
/// ```
pub fn event_route(target: RouteTarget<'_>, event: &str, override_route: Option<&str>) -> String {
    app_route("api", target, event, override_route)
}

/// The base of the management routes of a `STREAM` or `SERVICE` event (`<base>/start`,
/// `<base>/stop`). hopeit turns the event name's `.` and `$` into `/` before it builds the
/// route, so the whole name is one component: `stream.Worker` gives `.../stream/-worker`.
pub fn mgmt_route(target: RouteTarget<'_>, event: &str, override_route: Option<&str>) -> String {
    app_route(
        "mgmt",
        target,
        &event.replace(['.', '$'], "/"),
        override_route,
    )
}

/// The `{auto}` path of an object key under `prefix`: the key split on `.`, each part
/// snake-cased (`stream.ReaderTwo` under `my_app.0x30` gives `my_app.0x30.stream.reader_two`).
pub fn auto_key_path(prefix: &str, key: &str) -> String {
    std::iter::once(prefix.to_owned())
        .chain(key.split('.').map(snakecase))
        .collect::<Vec<_>>()
        .join(".")
}

/// The Rust method name generated for a target event: the event name in snake case, with its
/// dotted segments joined by `_` and anything that cannot appear in an identifier replaced by `_`.
///
/// Two events whose method names are equal cannot both be generated on one connection; the
/// manifest checks report that as a collision.
pub fn method_name(event: &str) -> String {
    rust_ident(&snakecase(event))
}

/// The Rust type name generated for an app connection: its key in `UpperCamelCase`.
pub fn type_name(connection: &str) -> String {
    let mut out = String::with_capacity(connection.len());
    let words = snakecase(connection);
    for word in words.split(|c: char| c == '_' || !unicode_ident::is_xid_continue(c)) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.extend(chars);
        }
    }
    rust_ident(&out)
}

/// Keywords that cannot be raw identifiers either (`r#self` is not valid).
const NOT_RAW: [&str; 5] = ["self", "Self", "super", "crate", "_"];

/// Maps a name to a valid Rust identifier: characters that cannot continue an identifier become
/// `_`, a name that cannot start one gets a leading `_`, and `self`, `Self`, `super`, `crate` and
/// `_` get a trailing `_`. Other keywords are left for the code generator, which emits them as
/// raw identifiers (`r#type`).
pub fn rust_ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if unicode_ident::is_xid_continue(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c == '_' || unicode_ident::is_xid_start(c)) {
        out.insert(0, '_');
    }
    if NOT_RAW.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIMPLE: RouteTarget<'static> = RouteTarget {
        name: "simple-example",
        version: "0.30",
        plugin: None,
    };

    #[test]
    fn reference_routes() {
        assert_eq!(
            event_route(SIMPLE, "list_somethings", None),
            "/api/simple-example/0x30/list-somethings"
        );
        assert_eq!(
            event_route(SIMPLE, "collector.query_concurrently", None),
            "/api/simple-example/0x30/collector/query-concurrently"
        );
        let plugin = RouteTarget {
            plugin: Some(("basic-auth", "0.30")),
            ..SIMPLE
        };
        assert_eq!(
            event_route(plugin, "login", None),
            "/api/simple-example/0x30/basic-auth/0x30/login"
        );
    }

    #[test]
    fn reference_overrides_are_mangled() {
        assert_eq!(
            event_route(SIMPLE, "e", Some("custom/route_B")),
            "/api/custom/route--b"
        );
        assert_eq!(
            event_route(SIMPLE, "e", Some("/abs/Route.v1/x_y")),
            "/abs/-routexv1/x-y"
        );
        assert_eq!(
            event_route(SIMPLE, "e", Some("simple-example/0.30/query_something")),
            "/api/simple-example/0x30/query-something"
        );
    }

    #[test]
    fn reference_app_keys() {
        assert_eq!(app_key("simple-example", "0.30"), "simple_example.0x30");
        assert_eq!(app_key("myApp", "0.30"), "my_app.0x30");
    }

    #[test]
    fn method_and_type_names() {
        assert_eq!(
            method_name("collector.query_concurrently"),
            "collector_query_concurrently"
        );
        assert_eq!(method_name("list-somethings"), "list_somethings");
        assert_eq!(method_name("listSomethings"), "list_somethings");
        assert_eq!(method_name("9lives"), "_9lives");
        assert_eq!(type_name("simple_example_conn"), "SimpleExampleConn");
        assert_eq!(type_name("simple-example.conn"), "SimpleExampleConn");
        assert_eq!(type_name("2nd"), "_2nd");
        assert_eq!(method_name("self"), "self_");
        assert_eq!(method_name("_"), "__");
        assert_eq!(method_name("x²"), "x_");
        assert_eq!(method_name("über.größe"), "über_größe");
        assert_eq!(type_name("self"), "Self_");
        assert_eq!(type_name(""), "__");
    }
}
