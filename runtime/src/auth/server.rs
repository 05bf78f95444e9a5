//! hopeit's server config, where a plain hopeit deployment keeps the caller's key folder and
//! passphrase.

use std::fmt;
use std::path::{Path, PathBuf};

use appwire_manifest::ServerConfig;
use appwire_manifest::env::{self, Lookup};

/// Why a hopeit server config cannot be read.
///
/// The message names the file and ends with the cause, and
/// [`source`](std::error::Error::source) is `None`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServerConfigError {
    /// The file cannot be read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Environment variables the file uses are not set.
    MissingEnv {
        /// The file.
        path: PathBuf,
        /// Every unset variable, upper-cased as it was looked up.
        names: Vec<String>,
    },
    /// The file is not a server config: not JSON, or a value missing or of the wrong type.
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the parser found, with its line and column (after `${VAR}` expansion).
        source: serde_json::Error,
    },
}

impl fmt::Display for ServerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(
                f,
                "cannot read the server config `{}`: {source}",
                path.display()
            ),
            Self::MissingEnv { path, names } => write!(
                f,
                "server config `{}`: environment variable{} not set: {}",
                path.display(),
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
            Self::Invalid { path, source } => {
                write!(f, "server config `{}`: {source}", path.display())
            }
        }
    }
}

/// No `source`: every message already ends with its cause.
impl std::error::Error for ServerConfigError {}

/// Reads a hopeit server config, the first file of `hopeit_server run --config-files`, as
/// hopeit reads it: `${VAR}`s in its text expanded from `env` first (the name upper-cased,
/// hopeit's built-in `HOPEIT_*` variables set, every unset one named in the error; see
/// [`env`](appwire_manifest::env)), then the JSON parsed with hopeit's defaults.
pub fn read_server_config(
    path: impl AsRef<Path>,
    env: &(impl Lookup + ?Sized),
) -> Result<ServerConfig, ServerConfigError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|source| ServerConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    // A sized view of `env`, which expansion takes.
    let env = |name: &str| env.get(name);
    let text = env::expand(&text, &env).map_err(|unset| ServerConfigError::MissingEnv {
        path: path.to_owned(),
        names: unset.names,
    })?;
    serde_json::from_str(&text).map_err(|source| ServerConfigError::Invalid {
        path: path.to_owned(),
        source,
    })
}
