//! Generated code for the fixture manifests, checked against `tests/snapshots/*.rs`. The
//! snapshots are Rust files: the workspace's `appwire-tests` crate compiles every one of them
//! with warnings denied. Update them with `APPWIRE_UPDATE_SNAPSHOTS=1 cargo test -p appwire-codegen`.

use std::path::{Path, PathBuf};

use appwire_codegen::{Inputs, Options, generate};
use indexmap::IndexMap;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn check(
    snapshot: &str,
    manifest: &str,
    specs: &[(&str, &str)],
    replace: &[(&str, &str)],
) -> String {
    let specs: IndexMap<String, PathBuf> = specs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), fixture(v)))
        .collect();
    let options = Options {
        replace: replace
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..Options::default()
    };
    let inputs = Inputs::load(fixture(manifest), &specs, options).expect("inputs");
    let generated = generate(&inputs).unwrap_or_else(|e| panic!("{snapshot}: {e}"));
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{snapshot}.rs"));
    if std::env::var_os("APPWIRE_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &generated.text).expect("write snapshot");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated.text,
        "{} differs from the generated code; review and update it with APPWIRE_UPDATE_SNAPSHOTS=1",
        path.display()
    );
    // Generation is deterministic.
    assert_eq!(generate(&inputs).expect("again").text, generated.text);
    generated.text
}

const SIMPLE_SPEC: &str = "simple-example.openapi.json";

#[test]
fn client_example_with_specs() {
    check(
        "client_example",
        "client-example.json",
        &[
            ("simple_example_conn", SIMPLE_SPEC),
            ("simple_example_auth_conn", SIMPLE_SPEC),
            ("simple_example_conn_unsecured", SIMPLE_SPEC),
        ],
        &[],
    );
}

#[test]
fn client_example_without_specs() {
    check("client_example_untyped", "client-example.json", &[], &[]);
}

/// Plugin routes, routes_override, plain values, text, binary and list responses, declared
/// alternatives, dotted names, keywords and name clashes resolved, a spec named by the manifest.
#[test]
fn inventory() {
    check("inventory", "inventory.json", &[], &[]);
}

#[test]
fn inventory_with_replaced_types() {
    check(
        "inventory_replaced",
        "inventory.json",
        &[],
        &[("ErrorInfo", "::appwire::ErrorInfo")],
    );
}

/// Schemas named like the prelude's and the runtime's items and like generated items, and two
/// connections to one target app: every schema is defined once, under a name of its own.
#[test]
fn names_that_collide() {
    let spec = "collisions.openapi.json";
    let text = check(
        "collisions",
        "collisions.json",
        &[("store", spec), ("store_backup", spec)],
        &[],
    );
    let defined = |name: &str| {
        text.matches(&format!("pub struct {name} {{"))
            .chain(text.matches(&format!("pub enum {name} {{")))
            .count()
    };
    for (schema, rust) in [
        ("Item", "Item"),
        ("Option", "Option2"),
        ("Result", "Result2"),
        ("Response", "Response2"),
        ("Error", "Error2"),
        ("String", "String2"),
        ("Call", "Call2"),
        ("Client", "Client2"),
        ("Store", "Store2"),
        ("StoreBackup", "StoreBackup2"),
        ("GetItemResponse", "GetItemResponse"),
    ] {
        assert_eq!(defined(rust), 1, "{schema} as {rust}:\n{text}");
    }
    // Generated names come after the spec's.
    assert_eq!(defined("GetItemResponse2"), 1, "{text}");
    assert_eq!(defined("Store"), 0, "{text}");
    assert!(text.contains("pub struct Store(Client);"), "{text}");
    assert!(text.contains("pub struct StoreBackup(Client);"), "{text}");
    assert!(text.contains("pub fn new_(&self)"), "{text}");
    assert!(text.contains("pub type Vec2 = Vec<Store2>;"), "{text}");
}

/// The manifest's own streams: a POST event's publisher, a STREAM relay's runner (typed by the
/// schemas of the streams it reads and writes), and a STREAM event whose stream has no schema.
#[test]
fn streams() {
    let text = check("streams", "streams.json", &[], &[]);
    assert!(text.contains("pub mod streams {"), "{text}");
    assert!(text.contains("pub trait RelayOrders"), "{text}");
}
