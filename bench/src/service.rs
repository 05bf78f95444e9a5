//! What a service pays to build appwire: a small crate that depends on the workspace's
//! `runtime/` with default features, generates its clients with `#[appwire::clients]` from the
//! bench's own manifest and spec and makes one call in `main`, built by cargo (dev profile)
//! from an empty target directory, its dependencies included.

use std::error::Error;
use std::path::Path;
use std::time::Duration;

use crate::codegen::Workshop;
use crate::usage;

/// The service's `main`: the catalog client from the manifest, one `get_item` call.
const MAIN: &str = r#"//! A service that calls the catalog app once.

#[appwire::clients(
    manifest = "spec/app-config.json",
    spec(catalog = "spec/catalog.openapi.json")
)]
mod clients {}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), appwire::Error> {
    let catalog = clients::catalog::Catalog::from_env()?;
    let item = catalog.get_item("item-1").await?.into_inner();
    println!("{item:?}");
    Ok(())
}
"#;

/// The spec files the service's clients are generated from, under `bench/spec/`.
const SPEC_FILES: [&str; 2] = ["app-config.json", "catalog.openapi.json"];

/// What building the service from clean cost.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServiceBuild {
    /// Wall time of `cargo build`.
    pub(crate) wall: Duration,
    /// CPU time of cargo and the compilers it ran, user and system.
    pub(crate) cpu: Duration,
    /// Crates cargo compiled: its `Compiling` lines, build scripts and proc macros included.
    pub(crate) compiled: usize,
}

impl Workshop {
    /// Writes the service crate under the workshop, the workspace's `Cargo.lock` copied in,
    /// and times `cargo build` of it from an empty target directory of its own.
    pub(crate) fn service(&self) -> Result<ServiceBuild, Box<dyn Error>> {
        let dir = self.dir.join("service");
        let crate_dir = dir.join("crate");
        std::fs::create_dir_all(crate_dir.join("src"))?;
        std::fs::create_dir_all(crate_dir.join("spec"))?;
        std::fs::write(crate_dir.join("Cargo.toml"), manifest(&self.root))?;
        std::fs::write(crate_dir.join("src/main.rs"), MAIN)?;
        for file in SPEC_FILES {
            std::fs::copy(
                self.root.join("bench/spec").join(file),
                crate_dir.join("spec").join(file),
            )?;
        }
        std::fs::copy(self.root.join("Cargo.lock"), crate_dir.join("Cargo.lock"))?;

        let target = dir.join("target");
        if target.exists() {
            std::fs::remove_dir_all(&target)?;
        }
        let log = dir.join("cargo.log");
        if log.exists() {
            std::fs::remove_file(&log)?;
        }
        let cpu = usage::children_cpu_time()?;
        let wall = self.cargo_in(&crate_dir, &target, &["build"], &log)?;
        let cpu = usage::children_cpu_time()?.saturating_sub(cpu);
        Ok(ServiceBuild {
            wall,
            cpu,
            compiled: compiling_lines(&std::fs::read_to_string(&log)?),
        })
    }
}

/// The service's `Cargo.toml`: the runtime by path with default features, and tokio for
/// `main`, in the features the runtime enables already. A workspace of its own, so that no
/// workspace above the temporary directory claims it.
fn manifest(root: &Path) -> String {
    let runtime = root.join("runtime").display().to_string();
    format!(
        "[package]\nname = \"bench-service\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\nappwire = {{ path = {runtime:?} }}\n\
         tokio = {{ version = \"1.45\", features = [\"rt\", \"macros\"] }}\n\n[workspace]\n"
    )
}

/// The crates cargo's output says it compiled.
fn compiling_lines(output: &str) -> usize {
    output
        .lines()
        .filter(|line| line.trim_start().starts_with("Compiling "))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_crates_are_counted_from_cargo_output() {
        let output = "    Locking 1 package\n   Compiling libc v0.2.172\n   Compiling \
                      bench-service v0.1.0 (/tmp/crate)\n    Finished `dev` profile\n";
        assert_eq!(compiling_lines(output), 2);
    }

    #[test]
    fn the_service_depends_on_the_runtime_by_path() {
        let manifest = manifest(Path::new("/work/appwire"));
        assert!(manifest.contains("appwire = { path = \"/work/appwire/runtime\" }"));
        assert!(manifest.ends_with("[workspace]\n"));
    }
}
