//! Why code could not be generated.

use std::path::PathBuf;

use appwire_manifest::Diagnostics;

/// Why code could not be generated. Its `Display` names the file and, for a manifest, the line,
/// column and JSON path of every problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The manifest has errors.
    #[error("{0}")]
    Manifest(Diagnostics),
    /// An OpenAPI spec cannot be used.
    #[error("{}{message}", file.as_ref().map(|f| format!("{}: ", f.display())).unwrap_or_default())]
    Spec {
        /// The spec file, when known.
        file: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },
    /// The generator was given options it cannot honour.
    #[error("{0}")]
    Options(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl GenerateError {
    pub(crate) fn spec(message: impl Into<String>) -> Self {
        Self::Spec {
            file: None,
            message: message.into(),
        }
    }

    /// Sets the spec file of a spec error that has none.
    pub(crate) fn in_file(self, path: &std::path::Path) -> Self {
        match self {
            Self::Spec {
                file: None,
                message,
            } => Self::Spec {
                file: Some(path.to_owned()),
                message,
            },
            other => other,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
