//! Diagnostics: what is wrong with a manifest (or another JSON file, such as an OpenAPI spec),
//! where, and what to do about it.
//!
//! Every diagnostic has a stable [`Code`], a severity, a message, usually a help line, the JSON
//! path it concerns and one or more labelled ranges of the file. They render three ways: as
//! plain `file:line:col: error[code]: message` lines ([`Diagnostics`]'s `Display`, used by
//! build scripts), as `miette` reports with source snippets (the CLI), and through
//! [`Diagnostic::location`] for other front ends.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use crate::path::JsonPath;
use crate::source::{LineCol, SourceFile};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Something hopeit accepts but that is probably a mistake.
    Warning,
    /// The file cannot be used.
    Error,
}

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal,)*) => {
        /// The stable identifier of a kind of diagnostic, shown as `appwire::<name>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Code {
            /// The code's name, e.g. `unknown-key`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Code::$variant => $name,)*
                }
            }

            /// Every code.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];
        }
    };
}

codes! {
    /// The file could not be read.
    Io = "io",
    /// The text is not valid JSON.
    Syntax = "syntax",
    /// A value has the wrong type, or a required key is missing.
    Type = "type",
    /// An environment variable the manifest uses is not set.
    EnvUnset = "env-unset",
    /// A `${` that does not start a `${NAME}` reference.
    EnvMalformed = "env-malformed",
    /// A `${NAME:-default}` reference, which hopeit does not understand.
    EnvDefault = "env-default",
    /// A value that comes from the environment where appwire needs to know it without one.
    EnvDeferred = "env-deferred",
    /// A key hopeit ignores, probably misspelled.
    UnknownKey = "unknown-key",
    /// A key written twice in one object: the last value wins.
    DuplicateKey = "duplicate-key",
    /// An app or app connection with an empty name or version.
    EmptyName = "empty-name",
    /// An event connection naming an app connection that is not declared.
    UndeclaredConnection = "undeclared-connection",
    /// An event connection type other than `GET` or `POST`.
    ConnectionType = "connection-type",
    /// One target event called with two different methods.
    ConflictingType = "conflicting-type",
    /// An app connection's settings section is missing.
    SettingsMissing = "settings-missing",
    /// An app connection's or event's settings have a wrong value.
    SettingsType = "settings-type",
    /// A host in `connection_str` that is not a usable base URL.
    HostUrl = "host-url",
    /// A `routes_override` entry for an event no event calls through the connection.
    UnusedOverride = "unused-override",
    /// Two names that map to the same generated Rust name.
    NameCollision = "name-collision",
    /// An empty route override.
    EmptyRoute = "empty-route",
    /// `{auto}` in a `read_stream` name, which hopeit rejects.
    AutoReadStream = "auto-read-stream",
    /// A `STREAM` event without `read_stream`: hopeit has no stream to read for it.
    MissingReadStream = "missing-read-stream",
    /// A `compression` or `serialization` of streams that hopeit does not know, in an event's
    /// stream settings, a stream's settings section or the engine's defaults.
    StreamEncoding = "stream-encoding",
    /// A stream read or written by an event without `settings.<stream>.appwire.type`, the
    /// payload's Python class: hopeit consumers pick the class by each message's `type` field,
    /// so appwire must know it to publish or to subscribe.
    MissingStreamType = "missing-stream-type",
    /// Two events reading the same stream key in the same consumer group: each receives only
    /// part of the messages.
    SharedConsumerGroup = "shared-consumer-group",
    /// `max_deliveries: 0` in a stream's `appwire` settings: every message would be
    /// dead-lettered before its first delivery.
    MaxDeliveries = "max-deliveries",
    /// A stream's `appwire.schema` that is not `<spec file>#<JSON pointer>`.
    StreamSchema = "stream-schema",
    /// An app connection with no client, or one that is not hopeit's apps-client.
    Client = "client",
    /// Template substitution that would make a string grow without bound.
    TemplateSize = "template-size",
    /// A secret setting (`appwire.hmac.secret`, `appwire.bearer_token`, `appwire.auth_passphrase`)
    /// written in the manifest instead of as a `${VAR}` reference. The runtime accepts it, so
    /// checking warns; code generation, which embeds settings as written, refuses it (see
    /// [`Diagnostics::deny`]). Checked without an environment only: with one, a reference is
    /// already replaced by its value.
    LiteralSecret = "literal-secret",
    /// An OpenAPI spec that is not valid JSON.
    SpecSyntax = "spec-syntax",
    /// An OpenAPI spec that is JSON but not an OpenAPI 3.0 document: a value has the wrong type,
    /// or a required key is missing.
    SpecType = "spec-type",
    /// A `$ref` that names no schema of the spec.
    DanglingRef = "dangling-ref",
    /// A `$ref` of a form the generator does not follow: only `#/components/schemas/<name>` is.
    UnsupportedRef = "unsupported-ref",
    /// A part of the spec the generator cannot turn into Rust, such as a referenced path item,
    /// a parameter with `content` or a request body that is not JSON.
    Unsupported = "unsupported",
    /// A target event whose route or method the spec does not have.
    MissingOperation = "missing-operation",
    /// An operation that declares no 200 response.
    MissingOkResponse = "missing-ok-response",
    /// A spec given for an app connection that no event calls through.
    UnusedSpec = "unused-spec",
    /// Two different specs given for one target app, whose connections share its types.
    ConflictingSpec = "conflicting-spec",
    /// A bug in the generator: what it produced or read internally is wrong, whatever the input.
    Internal = "internal",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The candidate closest to `word`, if one is close enough to be what a misspelled `word` meant:
/// the suggestion of a "did you mean" help line.
///
/// ```
/// use appwire_manifest::diagnostic::suggest;
///
/// assert_eq!(suggest("retires", ["retries", "ssl"]), Some("retries"));
/// assert_eq!(suggest("timeout", ["retries", "ssl"]), None);
/// ```
pub fn suggest<'a, S: AsRef<str> + ?Sized + 'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a S>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c.as_ref()), c.as_ref()))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// A range of the file with an optional note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Byte range in the file.
    pub span: Range<usize>,
    /// What the range shows.
    pub text: Option<String>,
}

/// One problem found in a manifest or another JSON file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Kind of problem.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    /// The JSON path concerned, if any.
    pub path: Option<JsonPath>,
    /// The ranges of the file concerned; the first is the primary location.
    pub labels: Vec<Label>,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    /// A warning.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    fn new(severity: Severity, code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity,
            message: message.into(),
            help: None,
            path: None,
            labels: Vec::new(),
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the JSON path.
    pub fn at_path(mut self, path: JsonPath) -> Self {
        self.path = Some(path);
        self
    }

    /// Adds a labelled range.
    pub fn with_label(mut self, span: Range<usize>, text: Option<String>) -> Self {
        self.labels.push(Label { span, text });
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Line and column of the primary label in `source`.
    pub fn location(&self, source: &SourceFile) -> Option<LineCol> {
        self.labels.first().map(|l| source.line_col(l.span.start))
    }
}

/// Every diagnostic found in one file (a manifest, a spec), with its source. Displays as plain
/// `file:line:col: severity[code]: message` lines with help and path.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub(crate) source: Arc<SourceFile>,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// The diagnostics `items` of `source`, whose labels are byte ranges of its text. For a JSON
    /// file other than a manifest, [`JsonSource`](crate::source::JsonSource) locates them.
    pub fn new(source: impl Into<Arc<SourceFile>>, mut items: Vec<Diagnostic>) -> Self {
        Self::sort(&mut items);
        Self {
            source: source.into(),
            items,
        }
    }

    /// Errors first, then in file order: the order a reader fixes them in.
    fn sort(items: &mut [Diagnostic]) {
        items.sort_by_key(|d| {
            (
                std::cmp::Reverse(d.severity),
                d.labels.first().map_or(usize::MAX, |l| l.span.start),
            )
        });
    }

    /// These diagnostics with every warning of `code` made an error: for a tool whose rule is
    /// stricter than hopeit's, as code generation's for [`Code::LiteralSecret`].
    pub fn deny(mut self, code: Code) -> Self {
        for d in &mut self.items {
            if d.code == code {
                d.severity = Severity::Error;
            }
        }
        Self::sort(&mut self.items);
        self
    }

    /// The file's source.
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The diagnostics, errors first, each group in file order.
    pub fn items(&self) -> &[Diagnostic] {
        &self.items
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Whether there is nothing to report.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The diagnostics as [`miette`] reports carrying the source, for rendering with snippets.
    #[cfg(feature = "miette")]
    pub fn reports(&self) -> impl Iterator<Item = Report> + '_ {
        let source = Arc::new(miette::NamedSource::new(
            self.source.name(),
            self.source.text().to_owned(),
        ));
        self.items.iter().map(move |d| Report {
            diagnostic: d.clone(),
            source: Arc::clone(&source),
        })
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.items {
            write!(f, "{}", d.plain(&self.source))?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// One diagnostic with its source, as a [`miette::Diagnostic`].
#[cfg(feature = "miette")]
#[derive(Debug, Clone)]
pub struct Report {
    diagnostic: Diagnostic,
    source: Arc<miette::NamedSource<String>>,
}

#[cfg(feature = "miette")]
impl Report {
    /// The diagnostic reported.
    pub fn diagnostic(&self) -> &Diagnostic {
        &self.diagnostic
    }
}

#[cfg(feature = "miette")]
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

#[cfg(feature = "miette")]
impl std::error::Error for Report {}

#[cfg(feature = "miette")]
impl miette::Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("appwire::{}", self.diagnostic.code)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let d = &self.diagnostic;
        match (&d.help, &d.path) {
            (Some(help), Some(path)) => Some(Box::new(format!("{help}\nat: {path}"))),
            (Some(help), None) => Some(Box::new(help)),
            (None, Some(path)) => Some(Box::new(format!("at: {path}"))),
            (None, None) => None,
        }
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&*self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        if self.diagnostic.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.diagnostic.labels.iter().enumerate().map(
            |(i, l)| {
                let span = (l.span.start, l.span.len());
                if i == 0 {
                    miette::LabeledSpan::new_primary_with_span(l.text.clone(), span)
                } else {
                    miette::LabeledSpan::new_with_span(l.text.clone(), span)
                }
            },
        )))
    }
}

/// One diagnostic as plain text: `file:line:col: severity[code]: message`, then its JSON path
/// and help on lines of their own. See [`Diagnostic::plain`].
#[derive(Debug, Clone, Copy)]
pub struct Plain<'a> {
    diagnostic: &'a Diagnostic,
    source: &'a SourceFile,
}

impl Diagnostic {
    /// This diagnostic of `source` as plain text, the form of [`Diagnostics`]' `Display`.
    pub fn plain<'a>(&'a self, source: &'a SourceFile) -> Plain<'a> {
        Plain {
            diagnostic: self,
            source,
        }
    }
}

impl fmt::Display for Plain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.diagnostic;
        let severity = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}", self.source.name())?;
        if let Some(at) = d.location(self.source) {
            write!(f, ":{}:{}", at.line, at.column)?;
        }
        writeln!(f, ": {severity}[{}]: {}", d.code, d.message)?;
        if let Some(path) = &d.path {
            writeln!(f, "  = at: {path}")?;
        }
        if let Some(help) = &d.help {
            writeln!(f, "  = help: {help}")?;
        }
        Ok(())
    }
}
