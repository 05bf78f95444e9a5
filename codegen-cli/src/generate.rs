//! The generator: a manifest and its specs in, Rust code out. Every front end (the CLI, the
//! build.rs [`Builder`](crate::Builder), the proc macro) reads its inputs with [`Inputs::load`]
//! and generates with [`generate`], so they produce the same code for the same inputs.

use std::path::{Path, PathBuf};

use appwire_manifest::source::JsonSource;
use appwire_manifest::{Code, Expansion, Manifest};
use indexmap::IndexMap;
use proc_macro2::TokenStream;

use crate::error::GenerateError;
use crate::spec::Spec;
use crate::{emit, model};

/// What a client is generated from: a manifest, the OpenAPI specs of its target apps, and
/// options. Paths are kept as given, for messages and the generated header.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The manifest's path.
    pub manifest_path: PathBuf,
    /// The manifest's text.
    pub manifest_text: String,
    /// OpenAPI specs by app connection key: (path, text).
    pub specs: IndexMap<String, (PathBuf, String)>,
    /// The spec files of the streams' schemas (`appwire.schema` of a stream's settings), by
    /// file name as the manifest writes it: (path, text). A file left out is reported.
    pub stream_specs: IndexMap<String, (PathBuf, String)>,
    /// Options.
    pub options: Options,
}

/// Generation options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Path of the runtime crate in generated code (`::appwire` by default); set it when the
    /// runtime is renamed or re-exported.
    pub runtime_path: String,
    /// Schema names of the specs replaced by your own types, e.g. `Something` →
    /// `crate::model::Something` (use absolute paths).
    pub replace: IndexMap<String, String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            runtime_path: "::appwire".to_owned(),
            replace: IndexMap::new(),
        }
    }
}

impl Inputs {
    /// Reads the manifest and the specs: those given in `specs` (connection key → path) and
    /// those the manifest names itself (`api_spec` of an app connection, relative to the
    /// manifest), and the spec files of the schemas of the streams its events read or write
    /// (relative to the manifest; one that cannot be read is reported by [`generate`]).
    pub fn load(
        manifest: impl AsRef<Path>,
        specs: &IndexMap<String, PathBuf>,
        options: Options,
    ) -> Result<Self, GenerateError> {
        let manifest_path = manifest.as_ref().to_owned();
        let manifest_text = read(&manifest_path)?;
        let mut all = IndexMap::new();
        let mut stream_specs = IndexMap::new();
        for (key, path) in specs {
            all.insert(key.clone(), (path.clone(), read(path)?));
        }
        // Specs named by the manifest; the manifest is checked again by `generate`.
        let (config, _) = Manifest::read(
            manifest_path.display().to_string(),
            manifest_text.as_str(),
            Expansion::Deferred,
        );
        if let Some(config) = config {
            let dir = manifest_path.parent().unwrap_or(Path::new(""));
            for (key, conn) in &config.app_connections {
                if let Some(spec) = &conn.api_spec
                    && !all.contains_key(key)
                {
                    let path = dir.join(spec);
                    all.insert(key.clone(), (path.clone(), read(&path)?));
                }
            }
            for event in config.events.keys() {
                let Ok(Some(streams)) = config.event_streams(event) else {
                    continue;
                };
                let read = streams.read.map(|r| r.extension);
                let write = streams.write.map(|w| w.extension);
                for ext in read.into_iter().chain(write) {
                    if let Some((file, _)) = ext.schema_ref()
                        && !stream_specs.contains_key(file)
                    {
                        let path = dir.join(file);
                        if let Ok(text) = std::fs::read_to_string(&path) {
                            stream_specs.insert(file.to_owned(), (path, text));
                        }
                    }
                }
            }
        }
        Ok(Self {
            manifest_path,
            manifest_text,
            specs: all,
            stream_specs,
            options,
        })
    }

    /// Every file read, for build systems to watch.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        std::iter::once(self.manifest_path.as_path())
            .chain(self.specs.values().map(|(p, _)| p.as_path()))
            .chain(self.stream_specs.values().map(|(p, _)| p.as_path()))
    }

    /// A digest of everything the output depends on: the first 8 bytes of a SHA-256, in hex.
    fn hash(&self) -> String {
        let mut h = ring::digest::Context::new(&ring::digest::SHA256);
        // Length-prefixed, so that moving text between inputs changes the digest.
        let mut put = |s: &str| {
            h.update(&(s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        put(&self.manifest_text);
        for (key, (_, text)) in &self.specs {
            put(key);
            put(text);
        }
        for (file, (_, text)) in &self.stream_specs {
            put(file);
            put(text);
        }
        put(&self.options.runtime_path);
        for (k, v) in &self.options.replace {
            put(k);
            put(v);
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(16);
        for b in &h.finish().as_ref()[..8] {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out
    }
}

fn read(path: &Path) -> Result<String, GenerateError> {
    std::fs::read_to_string(path).map_err(|e| GenerateError::io(path, e))
}

/// One generated client, for listings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSummary {
    /// The client type.
    pub type_name: String,
    /// The app connection's key.
    pub key: String,
    /// The target app (`name` `version`).
    pub target: String,
    /// The target events it calls.
    pub events: Vec<String>,
}

/// Generated code: the tokens (what the proc macro expands to) and the formatted file.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The clients generated.
    pub clients: Vec<ClientSummary>,
    /// The caller app's name.
    pub app_name: String,
    /// The code as tokens.
    pub tokens: TokenStream,
    /// The code as a formatted Rust file with its `@generated` header.
    pub text: String,
    /// Warnings about the manifest (its errors fail the generation).
    pub warnings: appwire_manifest::Diagnostics,
}

/// Generates the clients of `inputs`.
pub fn generate(inputs: &Inputs) -> Result<Generated, GenerateError> {
    let manifest = Manifest::parse(
        inputs.manifest_path.display().to_string(),
        inputs.manifest_text.as_str(),
        Expansion::Deferred,
    )
    .map_err(|d| GenerateError::Diagnostics(vec![d]))?;
    // Generated code embeds the settings as written: a secret in them would be in it too. A
    // generated publisher or subscriber needs its stream's payload type.
    let warnings = manifest
        .warnings()
        .deny(Code::LiteralSecret)
        .deny(Code::MissingStreamType);
    if warnings.has_errors() {
        return Err(GenerateError::Diagnostics(vec![warnings]));
    }
    let root = syn::parse_str::<syn::Path>(&inputs.options.runtime_path).map_err(|e| {
        GenerateError::Options(format!(
            "runtime path `{}`: {e}",
            inputs.options.runtime_path
        ))
    })?;
    let mut replace = IndexMap::new();
    for (name, path) in &inputs.options.replace {
        let parsed = syn::parse_str::<syn::Path>(path).map_err(|e| {
            GenerateError::Options(format!(
                "replacement of `{name}`: `{path}` is not a path: {e}"
            ))
        })?;
        replace.insert(name.clone(), parsed);
    }
    let mut specs = IndexMap::new();
    let mut invalid = Vec::new();
    for (key, (path, text)) in &inputs.specs {
        match Spec::load(&path.display().to_string(), text) {
            Ok(spec) => {
                specs.insert(key.clone(), spec);
            }
            Err(d) => invalid.push(d),
        }
    }
    let mut stream_specs = IndexMap::new();
    for (file, (path, text)) in &inputs.stream_specs {
        match Spec::load(&path.display().to_string(), text) {
            Ok(spec) => {
                stream_specs.insert(file.clone(), spec);
            }
            Err(d) => invalid.push(d),
        }
    }
    if !invalid.is_empty() {
        return Err(GenerateError::Diagnostics(invalid));
    }
    let source = JsonSource::new(
        inputs.manifest_path.display().to_string(),
        inputs.manifest_text.as_str(),
    );
    let model = model::build(manifest.config(), &source, &specs, &stream_specs, &replace)
        .map_err(GenerateError::Diagnostics)?;
    let clients = model
        .apps
        .iter()
        .flat_map(|app| {
            app.clients.iter().map(|c| ClientSummary {
                type_name: c.type_name.clone(),
                key: c.key.clone(),
                target: format!("{} {}", app.app.name, app.app.version),
                events: c.events.iter().map(|e| e.name.clone()).collect(),
            })
        })
        .collect();
    let tokens = emit::emit(&model, &root);
    let file: syn::File = syn::parse2(tokens.clone())
        .map_err(|e| GenerateError::Internal(format!("the generated code does not parse: {e}")))?;
    let name = inputs.manifest_path.file_name().map_or_else(
        || inputs.manifest_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let header = format!(
        "// @generated by appwire-codegen {} from {name} (inputs {}). Do not edit.\n\n",
        env!("CARGO_PKG_VERSION"),
        inputs.hash()
    );
    Ok(Generated {
        clients,
        app_name: manifest.config().app.name.clone(),
        text: header + &prettyplease::unparse(&file),
        tokens,
        warnings,
    })
}

/// Writes `text` to `path` unless the file already holds it, so that unchanged output does not
/// trigger rebuilds. Returns whether the file was written.
pub fn write_if_changed(path: &Path, text: &str) -> Result<bool, GenerateError> {
    if std::fs::read_to_string(path).is_ok_and(|old| old == text) {
        return Ok(false);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| GenerateError::io(dir, e))?;
    }
    std::fs::write(path, text).map_err(|e| GenerateError::io(path, e))?;
    Ok(true)
}
