//! The clients are generated at compile time from the target's committed OpenAPI spec; this
//! checks that the spec is what hopeit's own `hopeit_openapi create` writes for the target app.
//! `APPWIRE_UPDATE_SPEC=1` writes hopeit's output over the committed spec.

use std::fs;
use std::path::Path;

use appwire_hopeit_tests::Hopeit;
use serde_json::Value;

fn json(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_committed_spec_is_what_hopeit_openapi_creates() {
    let Some(hopeit) = Hopeit::find().unwrap_or_else(|e| panic!("{e}")) else {
        return;
    };
    let scratch = tempfile::tempdir().expect("temporary directory");
    let created = scratch.path().join("openapi.json");
    hopeit
        .create_openapi(&created, scratch.path())
        .unwrap_or_else(|e| panic!("{e}"));

    let committed = hopeit.committed_spec();
    if std::env::var_os("APPWIRE_UPDATE_SPEC").is_some() {
        fs::copy(&created, &committed).expect("update the committed spec");
    }
    assert!(
        json(&created) == json(&committed),
        "{} is not what hopeit_openapi creates now; review the change and update it with \
         APPWIRE_UPDATE_SPEC=1 cargo test -p appwire-hopeit-tests --test openapi",
        committed.display()
    );
}

#[test]
fn every_client_is_generated_from_the_committed_spec() {
    let apps = Path::new(env!("CARGO_MANIFEST_DIR")).join("apps");
    let manifest = apps.join("caller/config/app-config.json");
    let dir = manifest.parent().expect("the manifest's directory");
    let committed = apps.join("target/api/openapi.json");
    let committed = committed.canonicalize().expect("committed spec");
    let Value::Object(connections) = &json(&manifest)["app_connections"] else {
        panic!("no app_connections")
    };
    for (key, connection) in connections {
        let spec = connection["api_spec"].as_str().expect("api_spec");
        let spec = dir.join(spec).canonicalize().expect("spec path");
        assert_eq!(spec, committed, "connection `{key}`");
    }
}
