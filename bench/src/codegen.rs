//! The generator's cost: the time `appwire_codegen::generate` takes and the code it writes for
//! manifests of many events, and the time cargo takes to build the standalone crate that
//! `appwire generate --crate` writes for them.
//!
//! The manifests and specs are made up here: `n` target events of one app connection, each
//! called by a caller event of its own; GETs with a required and an optional query argument,
//! a typed response and a declared 404, and POSTs of a typed body answering a plain value, as
//! hopeit's OpenAPI generator writes them. Events come in pairs sharing a payload type.

use std::error::Error;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use appwire::Target;
use appwire_codegen::{Inputs, Options};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

/// The connection every made-up manifest has, and its target app.
const CONNECTION: &str = "inventory";
const TARGET: (&str, &str) = ("inventory", "1.0");

/// What generating and building the clients of one manifest cost.
#[derive(Debug, Clone)]
pub(crate) struct CodegenSample {
    pub(crate) events: usize,
    /// Median time of `generate`.
    pub(crate) generate: Duration,
    /// Lines of the generated file.
    pub(crate) lines: usize,
    pub(crate) build: Option<BuildTimes>,
}

/// Build times of a generated crate, its dependencies built already.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BuildTimes {
    /// `cargo build` of the crate, its own artifacts cleaned first.
    pub(crate) fresh: Duration,
    /// `cargo build` again after `src/lib.rs` is touched: rustc's incremental rebuild.
    pub(crate) incremental: Duration,
}

/// Where the manifests, crates and their shared target directory go, and what to build with.
pub(crate) struct Workshop {
    /// The workspace's root: its `runtime/` is the crates' dependency, its `Cargo.lock` their
    /// lock file.
    pub(crate) root: PathBuf,
    pub(crate) dir: PathBuf,
    pub(crate) cargo: PathBuf,
    /// Whether the crates' dependencies have been built in this run.
    pub(crate) dependencies_built: bool,
}

impl Workshop {
    /// Generates the clients of an `events`-event manifest `repeats` times; builds their crate
    /// when `build` is set.
    pub(crate) fn measure(
        &mut self,
        events: usize,
        repeats: usize,
        build: bool,
    ) -> Result<CodegenSample, Box<dyn Error>> {
        let dir = self.dir.join(format!("events-{events}"));
        std::fs::create_dir_all(&dir)?;
        let (manifest, spec) = (
            dir.join("app-config.json"),
            dir.join("inventory.openapi.json"),
        );
        let (manifest_json, spec_json) = made_up(events);
        std::fs::write(&manifest, serde_json::to_string_pretty(&manifest_json)?)?;
        std::fs::write(&spec, serde_json::to_string_pretty(&spec_json)?)?;

        let specs = IndexMap::from([(CONNECTION.to_owned(), spec.clone())]);
        let inputs = Inputs::load(&manifest, &specs, Options::default())?;
        let mut times = Vec::with_capacity(repeats);
        let mut lines = 0;
        for _ in 0..repeats.max(1) {
            let start = Instant::now();
            let generated = appwire_codegen::generate(&inputs)?;
            times.push(start.elapsed());
            lines = generated.text.lines().count();
        }
        times.sort();

        let build = match build {
            true => Some(self.build(&dir, &manifest, &spec, events)?),
            false => None,
        };
        Ok(CodegenSample {
            events,
            generate: times[times.len() / 2],
            lines,
            build,
        })
    }

    /// Writes the crate with `appwire generate --crate`, then times a build from its own
    /// clean state and a rebuild after a touch. The first crate is built once untimed before,
    /// so that the dependencies are built.
    fn build(
        &mut self,
        dir: &Path,
        manifest: &Path,
        spec: &Path,
        events: usize,
    ) -> Result<BuildTimes, Box<dyn Error>> {
        let crate_dir = dir.join("crate");
        let name = format!("bench-events-{events}-clients");
        let runtime = format!(
            "{{ path = {:?}, default-features = false }}",
            self.root.join("runtime").display().to_string()
        );
        let args = [
            "appwire".as_ref(),
            "generate".as_ref(),
            manifest.as_os_str(),
            "--spec".as_ref(),
            format!("{CONNECTION}={}", spec.display()).as_ref(),
            "--crate".as_ref(),
            crate_dir.as_os_str(),
            "--name".as_ref(),
            name.as_ref(),
            "--runtime-dependency".as_ref(),
            runtime.as_ref(),
        ]
        .map(std::ffi::OsStr::to_os_string);
        let (mut out, mut err) = (Vec::new(), Vec::new());
        if appwire_codegen::cli::run_with(args, &mut out, &mut err, false)? != ExitCode::SUCCESS {
            return Err(format!(
                "appwire generate --crate failed:\n{}",
                String::from_utf8_lossy(&err)
            )
            .into());
        }
        // The workspace's versions of every dependency, already downloaded.
        std::fs::copy(self.root.join("Cargo.lock"), crate_dir.join("Cargo.lock"))?;

        let log = dir.join("cargo.log");
        if !self.dependencies_built {
            self.cargo(&crate_dir, &["build"], &log)?;
            self.dependencies_built = true;
        }
        self.cargo(&crate_dir, &["clean", "--package", &name], &log)?;
        let fresh = self.cargo(&crate_dir, &["build"], &log)?;
        File::options()
            .write(true)
            .open(crate_dir.join("src/lib.rs"))?
            .set_modified(SystemTime::now())?;
        let incremental = self.cargo(&crate_dir, &["build"], &log)?;
        Ok(BuildTimes { fresh, incremental })
    }

    /// Runs `cargo <args> --offline` in `dir` with the shared target directory; its time.
    fn cargo(&self, dir: &Path, args: &[&str], log: &Path) -> Result<Duration, Box<dyn Error>> {
        self.cargo_in(dir, &self.dir.join("target"), args, log)
    }

    /// Runs `cargo <args> --offline` in `dir` with `target` as its target directory, its
    /// output appended to `log`; its time.
    pub(crate) fn cargo_in(
        &self,
        dir: &Path,
        target: &Path,
        args: &[&str],
        log: &Path,
    ) -> Result<Duration, Box<dyn Error>> {
        let start = Instant::now();
        let status = Command::new(&self.cargo)
            .args(args)
            .arg("--offline")
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", target)
            .stdin(Stdio::null())
            .stdout(File::options().create(true).append(true).open(log)?)
            .stderr(File::options().create(true).append(true).open(log)?)
            .status()?;
        let elapsed = start.elapsed();
        if !status.success() {
            return Err(format!(
                "cargo {} in {} failed ({status}); see {}",
                args.join(" "),
                dir.display(),
                log.display()
            )
            .into());
        }
        Ok(elapsed)
    }
}

/// A manifest of `events` target events and the target's spec.
fn made_up(events: usize) -> (Value, Value) {
    let target = Target::new(TARGET.0, TARGET.1);
    let mut caller_events = Map::new();
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for i in 0..events {
        let record = format!("Record{}", i / 2);
        let (event, method, operation) = if i % 2 == 0 {
            let event = format!("get_record_{}", i / 2);
            let operation = get_operation(&event, &record);
            (event, "GET", ("get", operation))
        } else {
            let event = format!("save_record_{}", i / 2);
            let operation = post_operation(&event, &record);
            (event, "POST", ("post", operation))
        };
        caller_events.insert(
            format!("call_{event}"),
            json!({"type": method, "connections": [
                {"app_connection": CONNECTION, "event": event, "type": method}
            ]}),
        );
        paths.insert(
            target.route(&event, None),
            json!({ operation.0: operation.1 }),
        );
        schemas
            .entry(record.clone())
            .or_insert_with(|| record_schema(&record));
    }
    schemas.insert(
        "NotFound".to_owned(),
        json!({"title": "NotFound", "type": "object", "required": ["id"],
               "properties": {"id": {"type": "string"}}}),
    );
    let manifest = json!({
        "app": {"name": format!("bench-events-{events}"), "version": "1.0"},
        "app_connections": {CONNECTION: {
            "name": TARGET.0, "version": TARGET.1, "client": "hopeit.apps_client.AppsClient"
        }},
        "settings": {CONNECTION: {
            "connection_str": "${INVENTORY_HOSTS}", "auth_strategy": "UNSECURED", "retries": 2
        }},
        "events": caller_events,
    });
    let spec = json!({
        "openapi": "3.0.3",
        "info": {"title": "Inventory", "description": "Made up for the benchmark", "version": TARGET.1},
        "paths": paths,
        "components": {"schemas": schemas},
        "security": [],
    });
    (manifest, spec)
}

fn track_headers() -> Value {
    json!([
        {"name": "X-Track-Request-Id", "in": "header", "required": false,
         "description": "Track information: Request-Id", "schema": {"type": "string"}},
        {"name": "X-Track-Request-Ts", "in": "header", "required": false,
         "description": "Track information: Request-Ts",
         "schema": {"type": "string", "format": "date-time"}}
    ])
}

fn get_operation(event: &str, record: &str) -> Value {
    let mut parameters = vec![
        json!({"name": "record_id", "in": "query", "required": true,
               "description": "The record's id", "schema": {"type": "string"}}),
        json!({"name": "limit", "in": "query", "required": false,
               "description": "Most versions returned", "schema": {"type": "integer"}}),
    ];
    if let Value::Array(headers) = track_headers() {
        parameters.extend(headers);
    }
    json!({
        "summary": format!("Inventory: {event}"),
        "description": format!("Reads one {record}."),
        "parameters": parameters,
        "responses": {
            "200": {"description": format!("The {record}"), "content": {"application/json":
                {"schema": {"$ref": format!("#/components/schemas/{record}")}}}},
            "404": {"description": "No such record", "content": {"application/json":
                {"schema": {"$ref": "#/components/schemas/NotFound"}}}}
        },
        "tags": ["inventory.1x0"]
    })
}

fn post_operation(event: &str, record: &str) -> Value {
    json!({
        "summary": format!("Inventory: {event}"),
        "description": format!("Saves one {record}."),
        "parameters": track_headers(),
        "requestBody": {"description": format!("The {record}"), "required": true,
            "content": {"application/json":
                {"schema": {"$ref": format!("#/components/schemas/{record}")}}}},
        "responses": {
            "200": {"description": "The id of the saved record", "content": {"application/json":
                {"schema": {"type": "object", "required": [event],
                            "properties": {event: {"type": "string"}},
                            "description": format!("{event} string payload")}}}}
        },
        "tags": ["inventory.1x0"]
    })
}

fn record_schema(name: &str) -> Value {
    json!({
        "title": name,
        "description": format!("A {name} of the inventory"),
        "type": "object",
        "required": ["id", "name", "count"],
        "properties": {
            "id": {"title": "Id", "type": "string"},
            "name": {"title": "Name", "type": "string"},
            "count": {"title": "Count", "type": "integer"},
            "price": {"title": "Price", "type": "number", "nullable": true},
            "tags": {"title": "Tags", "type": "array", "items": {"type": "string"}},
            "updated": {"title": "Updated", "type": "string", "format": "date-time", "nullable": true}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_up_manifests_generate_one_method_per_event() {
        let (manifest, spec) = made_up(4);
        let inputs = Inputs {
            manifest_path: "app-config.json".into(),
            manifest_text: manifest.to_string(),
            specs: IndexMap::from([(
                CONNECTION.to_owned(),
                ("inventory.openapi.json".into(), spec.to_string()),
            )]),
            stream_specs: IndexMap::new(),
            options: Options::default(),
        };
        let generated = appwire_codegen::generate(&inputs).expect("generated");
        assert_eq!(
            generated.clients[0].events,
            [
                "get_record_0",
                "save_record_0",
                "get_record_1",
                "save_record_1"
            ]
        );
        assert!(generated.text.contains("pub struct Record1"));
    }
}
