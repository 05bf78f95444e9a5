//! Loading never panics: random bytes, and random edits of valid manifests, through both
//! expansion modes, the settings accessors and both renderings of the diagnostics.
//! The case counts bound the run time.

use std::collections::HashMap;
use std::path::Path;

use appwire_manifest::{Diagnostics, Expansion, Manifest};
use proptest::prelude::*;

fn seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    [
        "hopeit/fixtures/client-example.json",
        "hopeit/fixtures/simple-example.json",
        "hopeit/fixtures/streams-auto.json",
        "hopeit/fixtures/connections-lax.json",
        "bad/valid.json",
    ]
    .iter()
    .map(|p| std::fs::read_to_string(root.join(p)).expect("seed manifest"))
    .collect()
}

/// Text fragments that hit the loader's special cases.
const TOKENS: &[&str] = &[
    "${",
    "}",
    "{",
    "${X}",
    "${x:-1}",
    "{auto}",
    "{app.name}",
    "{events.a.type}",
    "\"",
    ",",
    ":",
    "[",
    "]",
    "null",
    "true",
    "1e999",
    "-1",
    "0.5",
    "\"\\u0000\"",
    "\\",
    "é",
    "\n",
    "\"type\"",
    "\"GET\"",
    "\"STREAM\"",
    "\"connections\"",
    "\"settings\"",
    "//",
    "/*",
    "💥",
];

fn exercise(text: &str) {
    let env: HashMap<String, String> = HashMap::from([
        ("X".into(), "1".into()),
        ("HOPEIT_SIMPLE_EXAMPLE_HOSTS".into(), "http://h".into()),
    ]);
    for expansion in [Expansion::Deferred, Expansion::Env(&env)] {
        let (config, diagnostics) = Manifest::read("fuzz.json", text, expansion);
        render(&diagnostics);
        if let Some(config) = config {
            let _ = config.effective_settings();
            for key in config.app_connections.keys() {
                let _ = config.connection_settings(key);
            }
        }
    }
}

fn render(diagnostics: &Diagnostics) {
    let _ = diagnostics.to_string();
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    for report in diagnostics.reports() {
        let mut out = String::new();
        let _ = handler.render_report(&mut out, &report);
        for label in &report.diagnostic().labels {
            let text = diagnostics.source().text();
            assert!(
                label.span.end <= text.len(),
                "label past the end: {label:?}"
            );
            assert!(
                text.is_char_boundary(label.span.start) && text.is_char_boundary(label.span.end)
            );
        }
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, usize),
    Delete(usize, usize),
    Byte(usize, u8),
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for edit in edits {
        let at = |i: usize, len: usize| if len == 0 { 0 } else { i % (len + 1) };
        match edit {
            Edit::Insert(i, t) => {
                let pos = at(*i, bytes.len());
                let token = TOKENS[t % TOKENS.len()].as_bytes();
                bytes.splice(pos..pos, token.iter().copied());
            }
            Edit::Delete(i, n) => {
                let start = at(*i, bytes.len());
                let end = (start + n % 16).min(bytes.len());
                bytes.drain(start..end);
            }
            Edit::Byte(i, b) => {
                if !bytes.is_empty() {
                    let pos = i % bytes.len();
                    bytes[pos] = *b;
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(i, t)| Edit::Insert(i, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn edited_manifests(seed in 0usize..5, edits in proptest::collection::vec(edit(), 1..8)) {
        let seeds = seeds();
        exercise(&apply(&seeds[seed % seeds.len()], &edits));
    }
}
