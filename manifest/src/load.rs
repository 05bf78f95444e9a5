//! Loading a manifest: text → environment → JSON → typed model → templates → checks.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::env::{self, Lookup};
use crate::fields::known_fields;
use crate::located::Located;
use crate::path::JsonPath;
use crate::source::{Rewrite, SourceFile, SpanIndex};
use crate::typed::typed;
use crate::{AppConfig, check, template};

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

fn load(
    source: &SourceFile,
    expansion: Expansion<'_>,
    out: &mut Vec<Diagnostic>,
) -> Option<AppConfig> {
    env_warnings(source, out);
    let deferred = matches!(expansion, Expansion::Deferred);
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
                Diagnostic::warning(Code::DuplicateKey, format!("`{path}` is written twice"))
                    .with_help("hopeit keeps the last value; remove one of them"),
                path,
                Some("written again here".into()),
            ),
        );
    }
    let parsed = match typed::<AppConfig>(value, deferred) {
        Ok(t) => t,
        Err(e) => {
            out.push(match &e.deferred {
                Some(text) => at.value(
                    Diagnostic::error(
                        Code::EnvDeferred,
                        format!("`{text}` is only known at run time, but this value is needed to read the manifest"),
                    )
                    .with_help("write the value itself here, or check with `appwire check --env`"),
                    &e.path,
                    Some("from the environment".into()),
                ),
                None => at.type_error(&e),
            });
            return None;
        }
    };
    for path in &parsed.ignored {
        let known = path
            .parent()
            .map(|p| known_fields::<AppConfig>(&p))
            .unwrap_or_default();
        out.push(at.unknown_key(path, &known));
    }
    for d in &parsed.deferred {
        out.push(at.deferred(&JsonPath::root(), d));
    }
    check::before_templates(&parsed.value, &at, deferred, out);
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
        // `strings` is sorted and disjoint: the last one starting before the reference is the
        // only one that can hold it.
        let before = strings.partition_point(|s| s.start <= r.span.start);
        let in_string = before > 0 && strings[before - 1].contains(&r.span.start);
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
/// value, alone or with the text around it, forms a reference).
fn expand(
    source: &SourceFile,
    lookup: &dyn Lookup,
    out: &mut Vec<Diagnostic>,
) -> Option<(String, Option<Rewrite>)> {
    let text = source.text();
    let expanded = match env::expand_mapped(text, &lookup) {
        Ok(e) => e,
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
    let mapped = expanded
        .edits
        .map(|edits| Rewrite::new(text, edits.iter().map(|(r, v)| (r.clone(), v.as_str()))));
    Some((expanded.text, mapped))
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
    let offset = SourceFile::new("", text).json_error_offset(e);
    let offset = rewrite.map_or(offset, |r| r.original_offset(offset));
    let offset = crate::source::floor_char_boundary(source.text(), offset.min(source.text().len()));
    Diagnostic::error(
        Code::Syntax,
        format!("invalid JSON: {}", crate::source::json_message(e)),
    )
    .with_help(
        "appwire reads manifests as standard JSON: no comments, trailing commas, NaN or Infinity",
    )
    .with_label(offset..offset, None)
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
    if let Err(too_large) = template::substitute(&mut value, &app_key) {
        out.push(
            at.value(
                Diagnostic::error(
                    Code::TemplateSize,
                    format!(
                        "template substitution makes `{}` longer than {} bytes",
                        too_large.path,
                        template::MAX_STRING
                    ),
                )
                .with_help(
                    "a `{dotted.path}` chain repeats itself; hopeit would run out of memory on it",
                ),
                &too_large.path,
                None,
            ),
        );
        return None;
    }
    match typed::<AppConfig>(value, false) {
        Ok(t) => Some(t.value),
        Err(e) => {
            let mut d = at.type_error(&e);
            d.message = format!("after template substitution: {}", d.message);
            out.push(d);
            None
        }
    }
}
