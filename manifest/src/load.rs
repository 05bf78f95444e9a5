//! Loading a manifest: text → environment → JSON → typed model → templates → checks.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::env::{self, Lookup};
use crate::path::JsonPath;
use crate::source::{LineCol, Rewrite, SourceFile, SpanIndex};
use crate::typed::{TypeError, typed};
use crate::{AppConfig, ConnectionSettings, EventSettings, check, schema, template};

/// How `${VAR}` references are treated when loading.
#[derive(Clone, Copy)]
pub enum Expansion<'a> {
    /// No environment: hopeit's built-in variables are expanded, every other reference is kept
    /// as written (an unquoted one is read as a string). This is how code generation reads a
    /// manifest: settings are expanded only at run time.
    Deferred,
    /// Expand from this environment, as hopeit does; an unset variable is an error.
    Env(&'a dyn Lookup),
}

impl std::fmt::Debug for Expansion<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Expansion::Deferred => "Deferred",
            Expansion::Env(_) => "Env",
        })
    }
}

/// A loaded, checked manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    config: AppConfig,
    source: Arc<SourceFile>,
    warnings: Vec<Diagnostic>,
}

impl Manifest {
    /// Reads and checks the manifest at `path` without an environment
    /// ([`Expansion::Deferred`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Diagnostics> {
        Self::load_with(path, Expansion::Deferred)
    }

    /// Reads and checks the manifest at `path`.
    pub fn load_with(
        path: impl AsRef<Path>,
        expansion: Expansion<'_>,
    ) -> Result<Self, Diagnostics> {
        let path = path.as_ref();
        let name = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(name, text, expansion),
            Err(e) => Err(Diagnostics::new(
                Arc::new(SourceFile::new(name, "")),
                vec![Diagnostic::error(
                    Code::Io,
                    format!("cannot read the manifest: {e}"),
                )],
            )),
        }
    }

    /// Checks the manifest `text`; `name` names it in diagnostics (usually its path).
    ///
    /// Every problem found is reported: syntax and type errors stop the loading, later checks
    /// all run. Warnings alone do not fail; they are kept in [`Manifest::warnings`].
    pub fn parse(
        name: impl Into<String>,
        text: impl Into<String>,
        expansion: Expansion<'_>,
    ) -> Result<Self, Diagnostics> {
        let (config, diagnostics) = Self::read(name, text, expansion);
        match config {
            Some(config) if !diagnostics.has_errors() => Ok(Self {
                config,
                warnings: diagnostics.items().to_vec(),
                source: diagnostics.source,
            }),
            _ => Err(diagnostics),
        }
    }

    /// Reads as much of the manifest `text` as can be read, for tools that want the model even
    /// when checks fail: the config when the text parsed and typed (templates substituted), and
    /// every diagnostic found, errors included.
    pub fn read(
        name: impl Into<String>,
        text: impl Into<String>,
        expansion: Expansion<'_>,
    ) -> (Option<AppConfig>, Diagnostics) {
        let source = Arc::new(SourceFile::new(name, text));
        let mut diagnostics = Vec::new();
        let config = load(&source, expansion, &mut diagnostics);
        (config, Diagnostics::new(source, diagnostics))
    }

    /// The app config, with templates substituted.
    pub fn config(&self) -> &AppConfig {
        &self.config
    }

    /// Takes the app config out.
    pub fn into_config(self) -> AppConfig {
        self.config
    }

    /// The manifest's source.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The warnings found while loading.
    pub fn warnings(&self) -> Diagnostics {
        Diagnostics::new(Arc::clone(&self.source), self.warnings.clone())
    }
}

/// Where the text that was parsed came from: diagnostics found in it are moved back to the
/// file.
pub(crate) struct Located {
    rewrite: Option<Rewrite>,
    index: SpanIndex,
}

impl Located {
    /// The file range of a range of the parsed text; `None` when the expansion cannot be
    /// mapped back.
    fn original(&self, range: Range<usize>) -> Option<Range<usize>> {
        self.rewrite.as_ref().map(|r| r.original_range(range))
    }

    /// Labels a diagnostic with the value at `path` (or its nearest written ancestor).
    pub(crate) fn value(&self, d: Diagnostic, path: &JsonPath, text: Option<String>) -> Diagnostic {
        let span = self
            .index
            .find(path)
            .and_then(|n| self.original(n.value.clone()));
        let d = d.at_path(path.clone());
        match span {
            Some(span) => d.with_label(span, text),
            None => d,
        }
    }

    /// Labels a diagnostic with the key of the member at `path` (its value when it has no key).
    pub(crate) fn key(&self, d: Diagnostic, path: &JsonPath, text: Option<String>) -> Diagnostic {
        let span = self
            .index
            .find(path)
            .map(|n| n.key.clone().unwrap_or(n.value.clone()))
            .and_then(|r| self.original(r));
        let d = d.at_path(path.clone());
        match span {
            Some(span) => d.with_label(span, text),
            None => d,
        }
    }

    /// Whether `path` was written in the manifest.
    pub(crate) fn written(&self, path: &JsonPath) -> bool {
        self.index.contains(path)
    }
}

fn load(
    source: &SourceFile,
    expansion: Expansion<'_>,
    out: &mut Vec<Diagnostic>,
) -> Option<AppConfig> {
    env_warnings(source, out);
    let deferred = matches!(expansion, Expansion::Deferred);
    // The text to parse, and the way back to the file (none when the expansion cannot be
    // mapped back: diagnostics then carry paths only).
    let (text, rewrite) = match expansion {
        Expansion::Deferred => {
            let rewrite = defer(source.text());
            (rewrite.text.clone(), Some(rewrite))
        }
        Expansion::Env(lookup) => expand(source, lookup, out)?,
    };
    let value: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            out.push(syntax_error(source, rewrite.as_ref(), &text, &e));
            return None;
        }
    };
    let at = Located {
        index: SpanIndex::new(&text),
        rewrite,
    };
    for (path, _) in &at.index.duplicates {
        out.push(
            at.key(
                Diagnostic::warning(Code::DuplicateKey, format!("`{}` is written twice", path))
                    .with_help("hopeit keeps the last value; remove one of them"),
                path,
                Some("written again here".into()),
            ),
        );
    }
    let parsed = match typed::<AppConfig>(value, deferred) {
        Ok(t) => t,
        Err(e) => {
            out.push(type_error(&at, &e));
            return None;
        }
    };
    for path in &parsed.ignored {
        out.push(unknown_key(&at, path, schema::app_config_fields));
    }
    for (path, text) in &parsed.deferred {
        out.push(
            at.value(
                Diagnostic::warning(
                    Code::EnvDeferred,
                    format!(
                        "`{text}` is only known at run time; the default is assumed until then"
                    ),
                )
                .with_help("run `appwire check --env` with the environment to check this value"),
                path,
                Some("from the environment".into()),
            ),
        );
    }
    check::before_templates(&parsed.value, &at, out);
    let config = substitute(parsed.value, &at, out)?;
    check::run(&config, &at, deferred, out);
    Some(config)
}

/// Deferred mode: expands hopeit's built-ins, keeps other references, and quotes the unquoted
/// ones so that the text parses (`"retries": ${N}` reads as `"retries": "${N}"`).
fn defer(text: &str) -> Rewrite {
    let strings = string_ranges(text);
    let mut replacements: Vec<(Range<usize>, String)> = Vec::new();
    for r in env::references(text) {
        let in_string = strings.iter().any(|s| s.contains(&r.span.start));
        let replacement = match env::builtin(&r.name.to_uppercase()) {
            Some(v) => v,
            None if in_string => continue,
            None => format!("\"{}\"", &text[r.span.clone()]),
        };
        replacements.push((r.span, replacement));
    }
    Rewrite::new(
        text,
        replacements.iter().map(|(r, s)| (r.clone(), s.as_str())),
    )
}

/// Byte ranges of the JSON string literals of `text` (a lexical scan; valid JSON not needed).
fn string_ranges(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (start, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(s), '"') => {
                out.push(s..i + 1);
                start = None;
            }
            (None, '"') => start = Some(i),
            _ => {}
        }
    }
    out
}

/// Env mode: hopeit's expansion; `None` after reporting the unset variables. The rewrite maps
/// back to the file when a single left-to-right pass gives hopeit's result (always, unless a
/// variable's value itself holds a reference).
fn expand(
    source: &SourceFile,
    lookup: &dyn Lookup,
    out: &mut Vec<Diagnostic>,
) -> Option<(String, Option<Rewrite>)> {
    let text = source.text();
    let expanded = match env::expand(text, &lookup) {
        Ok(t) => t,
        Err(unset) => {
            let mut d = Diagnostic::error(Code::EnvUnset, unset.to_string()).with_help(
                "set them in the environment (names are upper-cased: `${my_var}` reads `MY_VAR`)",
            );
            for r in &unset.references {
                d = d.with_label(
                    r.span.clone(),
                    Some(format!("`{}` is not set", r.name.to_uppercase())),
                );
            }
            out.push(d);
            return None;
        }
    };
    let values: Vec<(Range<usize>, String)> = env::references(text)
        .into_iter()
        .filter_map(|r| {
            let v = crate::env::expand(&text[r.span.clone()], &lookup).ok()?;
            Some((r.span, v))
        })
        .collect();
    let single = Rewrite::new(text, values.iter().map(|(r, v)| (r.clone(), v.as_str())));
    let mapped = (single.text == expanded).then_some(single);
    Some((expanded, mapped))
}

impl Lookup for &dyn Lookup {
    fn get(&self, name: &str) -> Option<String> {
        (**self).get(name)
    }
}

/// Warnings about `${` that hopeit reads differently from what was probably meant.
fn env_warnings(source: &SourceFile, out: &mut Vec<Diagnostic>) {
    for at in env::malformed(source.text()) {
        out.push(
            Diagnostic::warning(
                Code::EnvMalformed,
                "`${` does not start a `${NAME}` reference",
            )
            .with_help(
                "write `${NAME}`, with no braces, quotes or line breaks inside: hopeit keeps `${}` and \
                 `${a{b}` as written, and reads an unclosed `${` up to the next `}` of the file",
            )
            .with_label(at..at + 2, None),
        );
    }
    for r in env::references(source.text()) {
        if let Some(default) = r.default_value() {
            out.push(
                Diagnostic::warning(
                    Code::EnvDefault,
                    format!("`{}` uses appwire's default syntax, which hopeit does not know", &source.text()[r.span.clone()]),
                )
                .with_help(format!(
                    "appwire uses `{default}` when the variable is unset; a hopeit server fails to load this manifest unless it is set"
                ))
                .with_label(r.span, None),
            );
        }
    }
}

fn syntax_error(
    source: &SourceFile,
    rewrite: Option<&Rewrite>,
    text: &str,
    e: &serde_json::Error,
) -> Diagnostic {
    let parsed = SourceFile::new("", text);
    let offset = parsed.offset(LineCol {
        line: e.line(),
        column: e.column().max(1),
    });
    let offset = rewrite
        .map_or(offset, |r| r.original_offset(offset))
        .min(source.text().len());
    let message = e.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    Diagnostic::error(Code::Syntax, format!("invalid JSON: {message}"))
        .with_help(
            "hopeit reads manifests with a strict JSON parser: no comments or trailing commas",
        )
        .with_label(offset..offset, None)
}

/// A type error, with a code and help of its own for the mistakes people make most.
pub(crate) fn type_error(at: &Located, e: &TypeError) -> Diagnostic {
    let is_connection_type = matches!(
        e.path.segments(),
        [.., crate::path::Segment::Index(_), crate::path::Segment::Key(k)] if k == "type"
    ) && e.path.to_string().contains(".connections[");
    let d = if is_connection_type {
        Diagnostic::error(Code::ConnectionType, format!("invalid event connection type: {}", e.message))
            .with_help("an event connection calls the target with GET or POST; other event types are not callable through app_connections")
    } else if let Some(field) = e.message.strip_prefix("missing field ") {
        Diagnostic::error(Code::Type, e.message.clone())
            .with_help(format!("add {field} here: hopeit requires it"))
    } else {
        Diagnostic::error(Code::Type, e.message.clone())
    };
    at.value(d, &e.path, None)
}

/// A key the model does not know, with the closest known key as a suggestion.
pub(crate) fn unknown_key(
    at: &Located,
    path: &JsonPath,
    known: impl Fn(&JsonPath) -> Vec<String>,
) -> Diagnostic {
    let key = path.last_key().unwrap_or_default();
    let candidates = path.parent().map(|p| known(&p)).unwrap_or_default();
    let best = candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(key, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let d = Diagnostic::warning(
        Code::UnknownKey,
        format!("unknown key `{key}`, ignored by hopeit"),
    );
    let d = match best {
        Some((_, c)) => d.with_help(format!("did you mean `{c}`?")),
        None if !candidates.is_empty() => {
            d.with_help(format!("known keys here: {}", candidates.join(", ")))
        }
        None => d,
    };
    at.key(d, path, Some("unknown".into()))
}

/// Applies `{dotted.path}` and `{auto}` templates to the typed config.
fn substitute(config: AppConfig, at: &Located, out: &mut Vec<Diagnostic>) -> Option<AppConfig> {
    let app_key = config.app_key();
    let mut value = match serde_json::to_value(&config) {
        Ok(v) => v,
        Err(e) => {
            out.push(Diagnostic::error(
                Code::Type,
                format!("cannot apply templates: {e}"),
            ));
            return None;
        }
    };
    template::substitute(&mut value, &app_key);
    match typed::<AppConfig>(value, false) {
        Ok(t) => Some(t.value),
        Err(e) => {
            let mut d = type_error(at, &e);
            d.message = format!("after template substitution: {}", d.message);
            out.push(d);
            None
        }
    }
}

impl AppConfig {
    /// The settings of an app connection: its `settings` section (the one named by the
    /// connection's `settings`, or the connection's own key) read as [`ConnectionSettings`]
    /// with hopeit's defaults. Call it on a manifest loaded with its environment.
    pub fn connection_settings(
        &self,
        connection: &str,
    ) -> Result<ConnectionSettings, SettingsError> {
        let conn = self
            .app_connections
            .get(connection)
            .ok_or_else(|| SettingsError::UnknownConnection(connection.to_owned()))?;
        let key = conn.settings_key(connection);
        let section = self
            .settings
            .get(key)
            .ok_or_else(|| SettingsError::Missing(key.to_owned()))?;
        ConnectionSettings::from_section(key, section)
    }

    /// Every event's effective settings, as hopeit's `AppConfig.setup()` computes them: the
    /// event's section (with the settings of the stream it writes, or else reads, merged into
    /// `stream`), the engine's stream defaults, and the raw sections in `extras`.
    pub fn effective_settings(&self) -> Result<IndexMap<String, EventSettings>, SettingsError> {
        let mut out = IndexMap::new();
        for (name, event) in &self.events {
            let stream_name = event
                .write_stream
                .as_ref()
                .map(|w| &w.name)
                .or(event.read_stream.as_ref().map(|r| &r.name));
            let mut stream = serde_json::Map::new();
            if let Some(section) = stream_name.and_then(|s| self.settings.get(s)) {
                stream.extend(section.clone());
            }
            let mut data = self.settings.get(name).cloned().unwrap_or_default();
            if let Some(Value::Object(own)) = data.get("stream") {
                stream.extend(own.clone());
            }
            data.insert("stream".into(), Value::Object(stream));
            let path = JsonPath::from(["settings", name.as_str()]);
            let mut settings: EventSettings = typed(Value::Object(data), false)
                .map(|t| t.value)
                .map_err(|e| SettingsError::Invalid {
                    section: name.clone(),
                    path: path.join(&e.path),
                    message: e.message,
                })?;
            settings
                .stream
                .compression
                .get_or_insert(self.engine.default_stream_compression);
            settings
                .stream
                .serialization
                .get_or_insert(self.engine.default_stream_serialization);
            settings.extras.clear();
            if let Some(own) = self.settings.get(name) {
                settings
                    .extras
                    .insert("_".into(), Value::Object(own.clone()));
            }
            for key in &event.setting_keys {
                if let Some(section) = self.settings.get(key) {
                    settings
                        .extras
                        .insert(key.clone(), Value::Object(section.clone()));
                }
            }
            out.insert(name.clone(), settings);
        }
        Ok(out)
    }
}

impl ConnectionSettings {
    /// Reads a settings section (`key` names it in errors).
    pub fn from_section(
        key: &str,
        section: &serde_json::Map<String, Value>,
    ) -> Result<Self, SettingsError> {
        typed(Value::Object(section.clone()), false)
            .map(|t| t.value)
            .map_err(|e| SettingsError::Invalid {
                section: key.to_owned(),
                path: JsonPath::from(["settings", key]).join(&e.path),
                message: e.message,
            })
    }

    /// Reads a settings section from JSON text holding `${VAR}` references, expanded from
    /// `env` first: how a client reads its settings at run time.
    pub fn from_json(key: &str, text: &str, env: &impl Lookup) -> Result<Self, SettingsError> {
        let expanded = env::expand(text, env)?;
        let section: serde_json::Map<String, Value> =
            serde_json::from_str(&expanded).map_err(|e| SettingsError::Invalid {
                section: key.to_owned(),
                path: JsonPath::from(["settings", key]),
                message: e.to_string(),
            })?;
        Self::from_section(key, &section)
    }
}

/// Why settings could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// No app connection has this key.
    #[error("no app connection `{0}` in the manifest")]
    UnknownConnection(String),
    /// The settings section is missing.
    #[error("settings section `{0}` is missing")]
    Missing(String),
    /// A value of the section is wrong.
    #[error("invalid settings `{path}`: {message}")]
    Invalid {
        /// Key of the section.
        section: String,
        /// Path of the wrong value.
        path: JsonPath,
        /// What is wrong.
        message: String,
    },
    /// Environment variables the section uses are not set.
    #[error(transparent)]
    Env(#[from] env::UnsetVariables),
}
