//! Why code could not be generated.

use std::fmt;
use std::path::PathBuf;

use appwire_manifest::Diagnostics;

/// Why code could not be generated. Its `Display` names the file and, for a manifest or a spec,
/// the line, column and JSON path of every problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The manifest or the specs have errors: every problem found, by file.
    #[error("{}", All(.0))]
    Diagnostics(Vec<Diagnostics>),
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
    /// A bug of the generator, whatever its input: please report it.
    #[error("appwire-codegen bug: {0}")]
    Internal(String),
}

/// Every file's diagnostics, one after the other.
struct All<'a>(&'a [Diagnostics]);

impl fmt::Display for All<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl GenerateError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
