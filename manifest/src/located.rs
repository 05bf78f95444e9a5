//! Turning findings about the parsed JSON into diagnostics located in the file.

use std::ops::Range;

use crate::diagnostic::{Code, Diagnostic, suggest};
use crate::path::{JsonPath, Segment};
use crate::source::{Rewrite, SpanIndex};
use crate::typed::{Deferred, TypeError};

/// Where the text that was parsed came from: findings in it are moved back to the file.
#[derive(Debug)]
pub(crate) struct Located {
    /// The way back from the parsed text to the file; `None` when an expansion cannot be
    /// mapped back, and diagnostics then carry paths only.
    pub(crate) rewrite: Option<Rewrite>,
    pub(crate) index: SpanIndex,
}

impl Located {
    fn original(&self, range: Range<usize>) -> Option<Range<usize>> {
        self.rewrite.as_ref().map(|r| r.original_range(range))
    }

    fn label(
        &self,
        d: Diagnostic,
        path: &JsonPath,
        span: Option<Range<usize>>,
        text: Option<String>,
    ) -> Diagnostic {
        let d = d.at_path(path.clone());
        match span.and_then(|s| self.original(s)) {
            Some(span) => d.with_label(span, text),
            None => d,
        }
    }

    /// Labels a diagnostic with the value at `path` (or its nearest written ancestor).
    pub(crate) fn value(&self, d: Diagnostic, path: &JsonPath, text: Option<String>) -> Diagnostic {
        let span = self.index.find(path).map(|n| n.value.clone());
        self.label(d, path, span, text)
    }

    /// Labels a diagnostic with the key of the member at `path` (its value when it has none).
    pub(crate) fn key(&self, d: Diagnostic, path: &JsonPath, text: Option<String>) -> Diagnostic {
        let span = self
            .index
            .find(path)
            .map(|n| n.key.clone().unwrap_or(n.value.clone()));
        self.label(d, path, span, text)
    }

    /// Whether `path` was written in the manifest.
    pub(crate) fn written(&self, path: &JsonPath) -> bool {
        self.index.contains(path)
    }

    /// A type error, with a code and help of its own for the mistakes people make most.
    pub(crate) fn type_error(&self, e: &TypeError) -> Diagnostic {
        let connection_type = matches!(
            e.path.segments(),
            [.., Segment::Key(c), Segment::Index(_), Segment::Key(t)] if c == "connections" && t == "type"
        );
        let encoding = matches!(
            e.path.last_key(),
            Some(
                "compression"
                    | "serialization"
                    | "default_stream_compression"
                    | "default_stream_serialization"
            )
        );
        let d = if encoding {
            let what = if e
                .path
                .last_key()
                .is_some_and(|k| k.ends_with("compression"))
            {
                "compression"
            } else {
                "serialization"
            };
            Diagnostic::error(Code::StreamEncoding, format!("invalid stream {what}: {}", e.message))
                .with_help(format!("hopeit fails at start on a {what} it does not know: use one of its values, spelled exactly as listed"))
        } else if connection_type {
            Diagnostic::error(Code::ConnectionType, format!("invalid event connection type: {}", e.message))
                .with_help("an event connection calls the target with GET or POST; other event types are not callable through app_connections")
        } else if let Some(field) = e.message.strip_prefix("missing field ") {
            Diagnostic::error(Code::Type, e.message.clone())
                .with_help(format!("add {field} here: hopeit requires it"))
        } else {
            Diagnostic::error(Code::Type, e.message.clone())
        };
        self.value(d, &e.path, None)
    }

    /// A type error inside a settings section read on demand (`what` names the reader).
    pub(crate) fn settings_error(
        &self,
        base: &JsonPath,
        e: &TypeError,
        what: &str,
        help: &str,
    ) -> Diagnostic {
        let mut d = self.type_error(&TypeError {
            path: base.join(&e.path),
            message: e.message.clone(),
            deferred: None,
        });
        if d.code == Code::Type {
            d.code = Code::SettingsType;
        }
        d.message = format!("{what}: {}", d.message);
        d.help.get_or_insert_with(|| help.to_owned());
        d
    }

    /// A key the model does not know, with the closest known key as a suggestion.
    pub(crate) fn unknown_key(&self, path: &JsonPath, known: &[String]) -> Diagnostic {
        let key = path.last_key().unwrap_or_default();
        let d = Diagnostic::warning(
            Code::UnknownKey,
            format!("unknown key `{key}`, ignored by hopeit"),
        );
        let d = match suggest(key, known) {
            Some(c) => d.with_help(format!("did you mean `{c}`?")),
            None if !known.is_empty() => {
                d.with_help(format!("known keys here: {}", known.join(", ")))
            }
            None => d,
        };
        self.key(d, path, Some("unknown".into()))
    }

    /// A value left to run time because it holds a `${VAR}` reference.
    pub(crate) fn deferred(&self, base: &JsonPath, deferred: &Deferred) -> Diagnostic {
        self.value(
            Diagnostic::warning(
                Code::EnvDeferred,
                format!(
                    "`{}` is only known at run time, and is not checked here",
                    deferred.text
                ),
            )
            .with_help("run `appwire check --env` with the environment to check this value"),
            &base.join(&deferred.path),
            Some("from the environment".into()),
        )
    }
}
