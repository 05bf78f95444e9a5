//! One fault per spec under `tests/bad-specs/`, each giving a diagnostic whose code starts the
//! file's name, located at its line, column and JSON path; `many` has two faults, both reported.
//! The rendered text is checked by snapshot (`INSTA_UPDATE=always` to accept a change).

use std::path::{Path, PathBuf};

use appwire_codegen::{GenerateError, Inputs, Options, generate};
use indexmap::IndexMap;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-specs")
}

/// The diagnostics of generating the fixture manifest with `spec` as the target's spec.
fn diagnostics(spec: &str) -> Vec<appwire_manifest::Diagnostics> {
    let read = |name: &str| std::fs::read_to_string(dir().join(name)).expect("fixture");
    let inputs = Inputs {
        manifest_path: PathBuf::from("bad-specs/app-config.json"),
        manifest_text: read("app-config.json"),
        specs: IndexMap::from([(
            "target".to_owned(),
            (PathBuf::from(format!("bad-specs/{spec}")), read(spec)),
        )]),
        stream_specs: IndexMap::new(),
        options: Options::default(),
    };
    match generate(&inputs) {
        Err(GenerateError::Diagnostics(files)) => files,
        Err(other) => panic!("{spec}: {other}"),
        Ok(_) => panic!("{spec}: generated"),
    }
}

#[test]
fn each_bad_spec_gives_its_located_diagnostic() {
    let mut specs: Vec<String> = std::fs::read_dir(dir())
        .expect("tests/bad-specs")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".openapi.json"))
        .collect();
    specs.sort();
    assert!(specs.len() >= 10, "{specs:?}");
    for spec in specs {
        let stem = spec.trim_end_matches(".openapi.json");
        let files = diagnostics(&spec);
        assert_eq!(files.len(), 1, "{spec}: only the spec is at fault");
        let d = &files[0];
        assert_eq!(d.source().name(), format!("bad-specs/{spec}"));
        let expected = if stem == "many" { 2 } else { 1 };
        assert_eq!(d.items().len(), expected, "{spec}:\n{d}");
        for item in d.items() {
            assert!(
                item.location(d.source()).is_some(),
                "{spec}: no location:\n{d}"
            );
            assert!(item.is_error(), "{spec}:\n{d}");
        }
        if stem != "many" {
            let code = d.items()[0].code.name();
            assert!(stem.starts_with(code), "{spec} gave `{code}`:\n{d}");
        }
        insta::assert_snapshot!(stem, d.to_string());
    }
}
