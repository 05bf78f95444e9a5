//! Generates the progenitor client of `spec/catalog.openapi.json` into `OUT_DIR`.
//!
//! hopeit writes no `operationId`s, and progenitor refuses an operation without one ("path
//! /api/catalog/0x30/get-item is missing operation ID"). Each operation is given the name of
//! its hopeit event, taken from its route, before the spec is handed to progenitor.

use std::error::Error;
use std::path::PathBuf;

use serde_json::Value;

const SPEC: &str = "spec/catalog.openapi.json";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed={SPEC}");
    println!("cargo::rerun-if-changed=build.rs");
    let mut spec: Value = serde_json::from_str(&std::fs::read_to_string(SPEC)?)?;
    name_operations(&mut spec);
    let spec: openapiv3::OpenAPI = serde_json::from_value(spec)?;
    let tokens = progenitor::Generator::default().generate_tokens(&spec)?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?).join("progenitor_catalog.rs");
    std::fs::write(out, tokens.to_string())?;
    Ok(())
}

/// Sets each operation's `operationId` to its hopeit event name: the route after
/// `/api/<app>/<version>/`, `-` and `/` made `_` (`/api/catalog/0x30/get-item` → `get_item`).
fn name_operations(spec: &mut Value) {
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths {
        let event: String = path
            .splitn(5, '/')
            .nth(4)
            .unwrap_or(path)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut().filter_map(Value::as_object_mut) {
            operation
                .entry("operationId")
                .or_insert_with(|| Value::String(event.clone()));
        }
    }
}
