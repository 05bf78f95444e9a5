//! The `appwire` binary, as a user runs it.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn appwire() -> Command {
    Command::cargo_bin("appwire").expect("appwire binary")
}

fn bad(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../manifest/tests/bad")
        .join(name)
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_lists_the_commands() {
    let out = appwire().arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("check") && text.contains("schema"), "{text}");
}

#[test]
fn schema_prints_the_committed_schemas() {
    for (args, file) in [
        (&["schema"][..], "app-config.schema.json"),
        (
            &["schema", "connection-settings"][..],
            "connection-settings.schema.json",
        ),
        (
            &["schema", "stream-settings"][..],
            "stream-settings.schema.json",
        ),
    ] {
        let out = appwire().args(args).output().expect("run");
        assert!(out.status.success());
        let committed = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../schemas")
                .join(file),
        )
        .expect("schema file");
        assert_eq!(String::from_utf8_lossy(&out.stdout), committed, "{file}");
    }
}

#[test]
fn a_valid_manifest_passes() {
    let out = appwire()
        .args(["check"])
        .arg(bad("valid.json"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("checked 1 manifest: 0 errors, 0 warnings"));
}

#[test]
fn errors_fail_with_snippets_and_help() {
    let out = appwire()
        .arg("check")
        .arg(bad("undeclared-connection.json"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(text.contains("appwire::undeclared-connection"), "{text}");
    assert!(text.contains("undeclared-connection.json:23:29]"), "{text}");
    assert!(text.contains("\"app_connection\": \"targt\""), "{text}");
    assert!(text.contains("did you mean `target`?"), "{text}");
    assert!(
        text.contains("at: events.call_get.connections[0].app_connection"),
        "{text}"
    );
}

#[test]
fn short_format_is_one_line_per_diagnostic() {
    let out = appwire()
        .args(["check", "--format", "short"])
        .arg(bad("settings-type.json"))
        .arg(bad("unknown-key-settings.json"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let text = stderr(&out);
    assert!(
        text.contains("settings-type.json:16:18: error[settings-type]:"),
        "{text}"
    );
    assert!(
        text.contains("unknown-key-settings.json:16:7: warning[unknown-key]:"),
        "{text}"
    );
    assert!(
        text.contains("checked 2 manifests: 1 error, 1 warning"),
        "{text}"
    );
}

#[test]
fn warnings_fail_only_when_denied() {
    let manifest = bad("unknown-key-event.json");
    let out = appwire().arg("check").arg(&manifest).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = appwire()
        .args(["check", "--deny-warnings"])
        .arg(&manifest)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}

#[test]
fn env_mode_expands_from_the_environment() {
    let manifest = bad("env-unset.json");
    let out = appwire()
        .args(["check", "--env"])
        .arg(&manifest)
        .env_remove("TARGET_HOSTS")
        .env_remove("APP_VERSION")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("environment variables not set: APP_VERSION, TARGET_HOSTS"),
        "{}",
        stderr(&out)
    );
    let out = appwire()
        .args(["check", "--env"])
        .arg(&manifest)
        .env("TARGET_HOSTS", "http://127.0.0.1:8020")
        .env("APP_VERSION", "2.0")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn unreadable_files_and_bad_arguments_are_reported() {
    let out = appwire()
        .args(["check", "no/such/file.json"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot read the manifest"),
        "{}",
        stderr(&out)
    );
    let out = appwire().arg("check").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn generate_writes_checks_and_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("clients.rs");
    let manifest = fixture("inventory.json");
    let run = |args: &[&str]| {
        appwire()
            .arg("generate")
            .arg(&manifest)
            .args(args)
            .output()
            .expect("run")
    };

    // Missing file: --check fails and writes nothing.
    let check = ["--out", out.to_str().expect("utf-8"), "--check"];
    let o = run(&check);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is out of date"), "{}", stderr(&o));
    assert!(!out.exists());

    let o = run(&["--out", out.to_str().expect("utf-8")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("wrote"), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.starts_with("// @generated by appwire-codegen"),
        "{text}"
    );

    // Unchanged: nothing rewritten, --check passes.
    let o = run(&["--out", out.to_str().expect("utf-8")]);
    assert!(stderr(&o).contains("up to date"), "{}", stderr(&o));
    assert_eq!(run(&check).status.code(), Some(0));

    // Stale: --check fails.
    std::fs::write(&out, text.replace("pub struct", "struct")).expect("edit");
    assert_eq!(run(&check).status.code(), Some(1));

    // Standard output holds the same code.
    let o = run(&[]);
    assert_eq!(String::from_utf8_lossy(&o.stdout), text);
}

#[test]
fn generate_writes_a_standalone_crate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = appwire()
        .arg("generate")
        .arg(fixture("inventory.json"))
        .arg("--crate")
        .arg(dir.path())
        .args([
            "--name",
            "inventory-clients",
            "--runtime-dependency",
            "{ path = \"../runtime\" }",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cargo = std::fs::read_to_string(dir.path().join("Cargo.toml")).expect("Cargo.toml");
    assert!(cargo.contains("name = \"inventory-clients\""), "{cargo}");
    assert!(
        cargo.contains("appwire = { path = \"../runtime\" }"),
        "{cargo}"
    );
    let readme = std::fs::read_to_string(dir.path().join("README.md")).expect("README.md");
    assert!(
        readme.contains("| `Inventory` | `inventory` | `inventory 2.1` |"),
        "{readme}"
    );
    let lib = std::fs::read_to_string(dir.path().join("src/lib.rs")).expect("lib.rs");
    assert!(lib.contains("pub struct InventoryAdmin"), "{lib}");
}

#[test]
fn crate_values_cannot_break_out_of_cargo_toml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |name: &str, runtime: &str| {
        appwire()
            .arg("generate")
            .arg(fixture("inventory.json"))
            .arg("--crate")
            .arg(dir.path())
            .args(["--name", name, "--runtime-dependency", runtime])
            .output()
            .expect("run")
    };
    // More than one TOML value: refused, nothing written.
    let o = run(
        "inventory-clients",
        "\"0.1\"\n[patch.crates-io]\nappwire = \"9\"",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("the runtime dependency"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("Cargo.toml").exists());
    // A name is written as a TOML string, escaped.
    let o = run("x\"\n[lib]", "\"0.1\"");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cargo = std::fs::read_to_string(dir.path().join("Cargo.toml")).expect("Cargo.toml");
    assert!(cargo.contains("\nname = \"x\\\"\\n[lib]\"\n"), "{cargo}");
}

#[test]
fn generate_reports_bad_inputs() {
    // A manifest error is shown with its location.
    let o = appwire()
        .arg("generate")
        .arg(bad("undeclared-connection.json"))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("undeclared-connection.json:23:29]"),
        "{}",
        stderr(&o)
    );

    // A spec without the events' paths: every event is reported, with the connection, the
    // event and the path, located in the spec (the connections to its app share it).
    let o = appwire()
        .arg("generate")
        .arg(fixture("client-example.json"))
        .arg(format!(
            "--spec=simple_example_conn={}",
            fixture("inventory.openapi.json").display()
        ))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    let text = stderr(&o);
    assert!(text.contains("inventory.openapi.json:4:3]"), "{text}");
    assert!(
        text.contains("the spec has no path `/api/simple-example/0x30/list-somethings`"),
        "{text}"
    );
    assert!(
        text.matches("appwire::missing-operation").count() >= 5,
        "{text}"
    );

    // A spec for a connection no event uses.
    let o = appwire()
        .arg("generate")
        .arg(fixture("inventory.json"))
        .arg(format!(
            "--spec=nope={}",
            fixture("inventory.openapi.json").display()
        ))
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("a spec is given for `nope`"),
        "{}",
        stderr(&o)
    );
}

/// A one-line manifest whose diagnostics lie past column 65,535, where miette cannot draw a
/// snippet (format widths are 16-bit): an error (`targt`) and an unknown key, both after
/// 70,000 spaces.
fn wide_manifest(dir: &Path) -> (PathBuf, usize, usize) {
    let head = concat!(
        r#"{"app": {"name": "caller-app", "version": "1.0"}, "#,
        r#""app_connections": {"target": {"name": "target-app", "version": "1.0", "#,
        r#""client": "hopeit.apps_client.AppsClient"}}, "#,
        r#""settings": {"target": {"connection_str": "http://127.0.0.1:8020"}}, "#,
        r#""events": {"call_get": {"type": "GET","#,
    );
    let pad = " ".repeat(70_000);
    let connections = r#""connections": [{"app_connection": "#;
    let text = format!(
        r#"{head}{pad}{connections}"targt", "event": "list_items", "type": "GET"}}], "bogus": 1}}}}}}"#
    );
    let error_col = head.len() + pad.len() + connections.len() + 1;
    let warning_col = text.find(r#""bogus""#).expect("key") + 1;
    let path = dir.join("wide.json");
    std::fs::write(&path, text).expect("write manifest");
    (path, error_col, warning_col)
}

#[test]
fn diagnostics_past_column_65535_are_printed_plain() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (manifest, error_col, warning_col) = wide_manifest(dir.path());
    assert!(error_col > 65_535);
    let out = appwire().arg("check").arg(&manifest).output().expect("run");
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let file = manifest.display();
    assert!(
        text.contains(&format!(
            "{file}:1:{error_col}: error[undeclared-connection]:"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("{file}:1:{warning_col}: warning[unknown-key]:")),
        "{text}"
    );
    assert!(
        text.contains("checked 1 manifest: 1 error, 1 warning"),
        "{text}"
    );

    // `generate` reports manifest problems the same way.
    let out = appwire()
        .arg("generate")
        .arg(&manifest)
        .output()
        .expect("run");
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&format!(
            "{file}:1:{error_col}: error[undeclared-connection]:"
        )),
        "{text}"
    );
}
