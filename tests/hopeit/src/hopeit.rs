//! The hopeit.engine installation, the apps it runs, and its tools.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::time::Duration;

/// Set to `1`, tests that need hopeit.engine skip (and say so) instead of running.
pub const SKIP: &str = "APPWIRE_SKIP_HOPEIT";

/// The venv to run hopeit.engine from, when not `.venv-hopeit/` at the workspace root: git
/// worktrees of one clone can share a single installation.
pub const VENV: &str = "APPWIRE_HOPEIT_VENV";

/// The configs of the target app as `hopeit_openapi` reads them: server, plugin, app.
pub(crate) const TARGET_CONFIGS: [&str; 3] = [
    "server-config.json",
    "auth-echo/config/plugin-config.json",
    "target/config/app-config.json",
];

/// The caller app, which a server runs too so that hopeit creates the caller's keys.
pub(crate) const CALLER_CONFIG: &str = "caller/config/app-config.json";

/// `--api-version`, `--title` and `--description` of the target's spec.
pub(crate) const API_INFO: [&str; 3] = [
    "1.0",
    "appwire-target",
    "The events appwire's generated clients call on a real hopeit.engine server",
];

/// The passphrase of the apps' private keys (`auth.auth_passphrase` of the server config).
pub(crate) const PASSPHRASE: &str = "appwire-hopeit-tests";

/// What can go wrong around the hopeit servers and tools.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The venv is missing or incomplete.
    #[error(
        "hopeit.engine is not installed in {}: run `bash tests/hopeit/setup-venv.sh` (`bash .ci/run` \
         does) or point {VENV} at a venv that has it, or set {SKIP}=1 to skip the tests against \
         real hopeit servers",
        venv.display()
    )]
    NotInstalled {
        /// Where the venv is expected.
        venv: PathBuf,
    },
    /// A hopeit tool ended with an error.
    #[error("`{command}` failed ({status}):\n{output}")]
    Tool {
        /// The command.
        command: String,
        /// How it ended.
        status: ExitStatus,
        /// What it wrote.
        output: String,
    },
    /// A server ended before it answered.
    #[error(
        "the hopeit server on port {port} exited ({status}) before it answered; its log:\n{log}"
    )]
    Exited {
        /// Its port.
        port: u16,
        /// How it ended.
        status: ExitStatus,
        /// The end of its log.
        log: String,
    },
    /// A server did not answer in time.
    #[error("the hopeit server on port {port} did not answer within {waited:?}; its log:\n{log}")]
    NotReady {
        /// Its port.
        port: u16,
        /// How long it was given.
        waited: Duration,
        /// The end of its log.
        log: String,
    },
    /// A streams server answers HTTP, but its STREAM events are not all consuming in time.
    #[error(
        "the hopeit streams server on port {port} is not consuming within {waited:?}: {state}; its log:\n{log}"
    )]
    StreamsNotReady {
        /// Its port.
        port: u16,
        /// How long it was given.
        waited: Duration,
        /// What was still missing.
        state: String,
        /// The end of its log.
        log: String,
    },
    /// A stopped server's port still accepts connections.
    #[error("port {port} still accepts connections {waited:?} after its server was killed")]
    StillListening {
        /// The port.
        port: u16,
        /// How long it was given.
        waited: Duration,
    },
    /// A settings section of the caller's manifest cannot be read.
    #[error("settings `{connection}` of the caller's manifest")]
    Settings {
        /// The section.
        connection: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Reading, writing or starting something failed.
    #[error("{what}")]
    Io {
        /// What was done.
        what: String,
        /// Why it failed.
        #[source]
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let what = what.into();
        move |source| Self::Io { what, source }
    }
}

/// The venv with hopeit.engine 0.30.1 and the apps of this crate.
#[derive(Debug, Clone)]
pub struct Hopeit {
    venv: PathBuf,
    crate_dir: PathBuf,
}

impl Hopeit {
    /// The installation at the workspace root (`.venv-hopeit/`, or the venv
    /// `APPWIRE_HOPEIT_VENV` names), or `None` when `APPWIRE_SKIP_HOPEIT=1`, which it reports on
    /// standard error.
    pub fn find() -> Result<Option<Self>, Error> {
        if std::env::var_os(SKIP).is_some_and(|v| v == "1") {
            // The test harness names each test's thread after it.
            let test = std::thread::current().name().unwrap_or("test").to_owned();
            // Straight to the stream: the harness captures `eprintln!`.
            let _ = writeln!(io::stderr(), "skipped {test}: {SKIP}=1");
            return Ok(None);
        }
        let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let root = crate_dir.ancestors().nth(2).unwrap_or(&crate_dir);
        let venv = match std::env::var_os(VENV) {
            Some(venv) if !venv.is_empty() => PathBuf::from(venv),
            _ => root.join(".venv-hopeit"),
        };
        let hopeit = Self { venv, crate_dir };
        if !hopeit.bin("hopeit_server").is_file() || !hopeit.bin("hopeit_openapi").is_file() {
            return Err(Error::NotInstalled { venv: hopeit.venv });
        }
        Ok(Some(hopeit))
    }

    /// The apps' directory, where their config files are.
    pub fn apps(&self) -> PathBuf {
        self.crate_dir.join("apps")
    }

    /// The target's OpenAPI spec as committed, which the clients are generated from.
    pub fn committed_spec(&self) -> PathBuf {
        self.apps().join("target/api/openapi.json")
    }

    /// The caller app's manifest.
    pub fn caller_manifest(&self) -> PathBuf {
        self.apps().join(CALLER_CONFIG)
    }

    /// Writes the target's spec to `out` with `hopeit_openapi create`, which imports the
    /// apps' event modules. `scratch` is a directory the configs may point at.
    pub fn create_openapi(&self, out: &Path, scratch: &Path) -> Result<(), Error> {
        let [version, title, description] = API_INFO;
        let mut command = self.command(&self.bin("hopeit_openapi"));
        command
            .arg("create")
            .arg(format!("--api-version={version}"))
            .arg(format!("--title={title}"))
            .arg(format!("--description={description}"))
            .arg(format!("--config-files={}", TARGET_CONFIGS.join(",")))
            .arg(concat_os("--output-file=", out.as_os_str()))
            .env("APPWIRE_SECRETS", scratch)
            .env("APPWIRE_AUTH_PASSPHRASE", PASSPHRASE)
            .env("APPWIRE_INSTANCE", "openapi");
        let output = command
            .output()
            .map_err(Error::io("cannot run hopeit_openapi"))?;
        if output.status.success() {
            return Ok(());
        }
        Err(Error::Tool {
            command: "hopeit_openapi create".to_owned(),
            status: output.status,
            output: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }

    /// A venv program run from the apps' directory, with their sources importable.
    pub(crate) fn command(&self, program: &Path) -> Command {
        let sources =
            ["target/src", "auth-echo/src", "caller/src"].map(|dir| self.apps().join(dir));
        let mut command = Command::new(program);
        command
            .current_dir(self.apps())
            .env(
                "PYTHONPATH",
                std::env::join_paths(sources).unwrap_or_default(),
            )
            // No `__pycache__` in the sources.
            .env("PYTHONDONTWRITEBYTECODE", "1");
        command
    }

    /// The venv's Python.
    pub(crate) fn python(&self) -> PathBuf {
        self.bin("python")
    }

    /// The script that runs a server until its standard input closes.
    pub(crate) fn serve_script(&self) -> PathBuf {
        self.crate_dir.join("serve.py")
    }

    /// A program of the venv.
    pub(crate) fn bin(&self, name: &str) -> PathBuf {
        self.venv.join("bin").join(name)
    }
}

fn concat_os(prefix: &str, value: &std::ffi::OsStr) -> OsString {
    let mut s = OsString::from(prefix);
    s.push(value);
    s
}
