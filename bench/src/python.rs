//! hopeit's apps-client, driven by `python/apps_client_load.py` in the interpreter of the
//! workspace's `.venv-hopeit` (created by `tests/hopeit/setup-venv.sh`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The interpreter that runs hopeit's apps-client, and what it runs.
#[derive(Debug, Clone)]
pub(crate) struct Python {
    interpreter: PathBuf,
    script: PathBuf,
    manifest: PathBuf,
    /// `hopeit.apps-client <version>, Python <version>`.
    pub(crate) version: String,
}

impl Python {
    /// The apps-client of `<root>/.venv-hopeit`, or why the Python column is skipped.
    pub(crate) fn find(root: &Path, bench: &Path) -> Result<Self, String> {
        let venv = root.join(".venv-hopeit");
        let interpreter = venv.join("bin/python");
        let enable = "create it with `bash tests/hopeit/setup-venv.sh` to enable the column";
        if !interpreter.exists() {
            return Err(format!("no {}: {enable}", venv.display()));
        }
        let probe = "import importlib.metadata as m, platform, hopeit.apps_client; \
                     print(f\"hopeit.apps-client {m.version('hopeit.apps-client')}, \
                     Python {platform.python_version()}\")";
        let output = Command::new(&interpreter)
            .args(["-c", probe])
            .stderr(Stdio::null())
            .output()
            .map_err(|e| format!("{} does not run ({e}): {enable}", interpreter.display()))?;
        if !output.status.success() {
            return Err(format!(
                "{} has no hopeit.apps_client: {enable}",
                venv.display()
            ));
        }
        Ok(Self {
            interpreter,
            script: bench.join("python/apps_client_load.py"),
            manifest: bench.join("spec/app-config.json"),
            version: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
        })
    }

    /// The command running the workload; the plan's arguments follow.
    pub(crate) fn command(&self) -> Command {
        let mut command = Command::new(&self.interpreter);
        command
            .arg(&self.script)
            .arg("--manifest")
            .arg(&self.manifest);
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
