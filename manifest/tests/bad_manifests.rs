//! One fault per manifest under `tests/bad/`, each giving exactly one diagnostic whose code
//! starts the file's name; the rendered text is checked by snapshot
//! (`cargo insta review` or `INSTA_UPDATE=always` to accept a change).

use std::collections::HashMap;
use std::path::Path;

use appwire_manifest::{Expansion, Manifest};

#[test]
fn each_bad_manifest_gives_its_diagnostic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/bad")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() > 20, "{files:?}");
    let no_env: HashMap<String, String> = HashMap::new();
    for file in files {
        let stem = file.trim_end_matches(".json");
        let text = std::fs::read_to_string(dir.join(&file)).expect("read");
        // `env-unset` is read with an (empty) environment, everything else without one.
        let expansion = if stem.starts_with("env-unset") {
            Expansion::Env(&no_env)
        } else {
            Expansion::Deferred
        };
        let (_, diagnostics) = Manifest::read(format!("bad/{file}"), text, expansion);
        if stem.starts_with("valid") {
            assert!(diagnostics.is_empty(), "{diagnostics}");
            continue;
        }
        assert_eq!(
            diagnostics.items().len(),
            1,
            "{file}: one fault, one diagnostic:\n{diagnostics}"
        );
        let code = diagnostics.items()[0].code.name();
        assert!(
            stem.starts_with(code),
            "{file} gave `{code}`:\n{diagnostics}"
        );
        assert!(
            diagnostics.items()[0]
                .location(diagnostics.source())
                .is_some(),
            "{file}: no location"
        );
        insta::assert_snapshot!(stem, diagnostics.to_string());
    }
}
