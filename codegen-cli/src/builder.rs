//! Generation from a build script.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::error::GenerateError;
use crate::generate::{Inputs, Options, generate, write_if_changed};

/// Generates clients from a build script into `OUT_DIR`:
///
/// ```no_run
/// // build.rs
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     appwire_codegen::Builder::new()
///         .manifest("config/app-config.json")
///         .api_spec("catalog", "api/catalog.json")
///         .generate()?;
///     Ok(())
/// }
/// ```
///
/// and in the crate: `appwire::include_clients!();`. The builder prints `cargo:rerun-if-changed`
/// for every file it reads and rewrites the output only when it changed. Manifest problems are
/// reported as `file:line:col: error[code]: message` lines.
#[derive(Debug, Clone, Default)]
pub struct Builder {
    manifest: Option<PathBuf>,
    specs: IndexMap<String, PathBuf>,
    options: Options,
    out: Option<PathBuf>,
}

impl Builder {
    /// A builder with default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// The manifest (relative to the crate root when run from a build script).
    #[must_use]
    pub fn manifest(mut self, path: impl Into<PathBuf>) -> Self {
        self.manifest = Some(path.into());
        self
    }

    /// The OpenAPI spec of the target app of `connection`.
    #[must_use]
    pub fn api_spec(mut self, connection: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.specs.insert(connection.into(), path.into());
        self
    }

    /// Uses your type for a schema of the specs, e.g. `("Something", "crate::model::Something")`.
    #[must_use]
    pub fn replace(mut self, schema: impl Into<String>, path: impl Into<String>) -> Self {
        self.options.replace.insert(schema.into(), path.into());
        self
    }

    /// The path generated code names the runtime by (`::appwire` by default).
    #[must_use]
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.options.runtime_path = path.into();
        self
    }

    /// Where to write the code; `$OUT_DIR/appwire_clients.rs` by default.
    #[must_use]
    pub fn out_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.out = Some(path.into());
        self
    }

    /// Reads the inputs without generating.
    pub fn inputs(&self) -> Result<Inputs, GenerateError> {
        let manifest = self
            .manifest
            .as_ref()
            .ok_or_else(|| GenerateError::Options("no manifest given to the builder".into()))?;
        Inputs::load(manifest, &self.specs, self.options.clone())
    }

    /// Generates the code and writes it; returns the path written.
    pub fn generate(&self) -> Result<PathBuf, GenerateError> {
        let inputs = self.inputs();
        // Watch the inputs even when they fail, so that fixing them reruns the build script.
        for path in self.manifest.iter().chain(self.specs.values()) {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let inputs = inputs?;
        for path in inputs.files() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let generated = generate(&inputs)?;
        for line in generated.warnings.to_string().lines() {
            println!("cargo:warning={line}");
        }
        let out = match &self.out {
            Some(p) => p.clone(),
            None => {
                let dir = std::env::var_os("OUT_DIR").ok_or_else(|| {
                    GenerateError::Options(
                        "OUT_DIR is not set: run from a build script or set out_file".into(),
                    )
                })?;
                Path::new(&dir).join("appwire_clients.rs")
            }
        };
        write_if_changed(&out, &generated.text)?;
        Ok(out)
    }
}
