//! hopeit's apps-client, driven by `python/apps_client_load.py`, and hopeit's stream
//! publisher and consumer, driven by `python/streams_load.py`, in the interpreter of the
//! workspace's `.venv-hopeit` (created by `tests/hopeit/setup-venv.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The interpreter that runs hopeit's apps-client and streams, and what it runs.
#[derive(Debug, Clone)]
pub(crate) struct Python {
    interpreter: PathBuf,
    bench: PathBuf,
    /// `hopeit.apps-client <version>, hopeit.redis-streams <version>, Python <version>`.
    pub(crate) version: String,
}

impl Python {
    /// The apps-client and streams of `<root>/.venv-hopeit`, or why the Python column is
    /// skipped.
    pub(crate) fn find(root: &Path, bench: &Path) -> Result<Self, String> {
        let venv = root.join(".venv-hopeit");
        let interpreter = venv.join("bin/python");
        let enable = "create it with `bash tests/hopeit/setup-venv.sh` to enable the column";
        if !interpreter.exists() {
            return Err(format!("no {}: {enable}", venv.display()));
        }
        let probe = "import importlib.metadata as m, platform, hopeit.apps_client, \
                     hopeit.redis_streams; \
                     print(f\"hopeit.apps-client {m.version('hopeit.apps-client')}, \
                     hopeit.redis-streams {m.version('hopeit.redis-streams')}, \
                     Python {platform.python_version()}\")";
        let output = Command::new(&interpreter)
            .args(["-c", probe])
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("{} does not run ({e}): {enable}", interpreter.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} lacks hopeit.apps_client or hopeit.redis_streams: {enable}",
                venv.display()
            ));
        }
        Ok(Self {
            interpreter,
            bench: bench.to_owned(),
            version: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        })
    }

    /// The command running the calls' workload; the plan's arguments follow.
    pub(crate) fn command(&self) -> Command {
        self.script("python/apps_client_load.py", "spec/app-config.json")
    }

    /// The command running a streams workload; the plan's arguments follow.
    pub(crate) fn streams_command(&self) -> Command {
        self.script("python/streams_load.py", "spec/streams/app-config.json")
    }

    fn script(&self, script: &str, manifest: &str) -> Command {
        let mut command = Command::new(&self.interpreter);
        command
            .arg(self.bench.join(script))
            .arg("--manifest")
            .arg(self.bench.join(manifest));
        command
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_venv_the_column_is_skipped_with_how_to_enable_it() {
        let why = Python::find(
            Path::new("/nonexistent/workspace"),
            Path::new("/nonexistent"),
        )
        .expect_err("no venv");
        assert!(why.contains("tests/hopeit/setup-venv.sh"), "{why}");
    }
}
