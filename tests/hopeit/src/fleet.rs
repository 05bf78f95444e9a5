//! Instances of the target app on loopback ports, each a `hopeit_server` child process.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::Arc;
use std::time::Duration;

use appwire::ConnectionSettings;
use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process_group};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};

use crate::hopeit::{API_INFO, CALLER_CONFIG, Error, Hopeit, PASSPHRASE, TARGET_CONFIGS};

/// Longest a server may take to answer after it is started.
pub(crate) const STARTUP: Duration = Duration::from_secs(30);
/// Longest a killed server's port may keep accepting connections.
const SHUTDOWN: Duration = Duration::from_secs(5);
/// Time between two looks at a starting or stopping server.
pub(crate) const POLL: Duration = Duration::from_millis(50);
/// What a server answers once its apps are loaded.
const DOCS: &str = "/api/docs/swagger.json";

/// Instances of the target app (with its plugin, and the caller app), for one test.
///
/// They share a secrets directory: the first instance creates the apps' keys
/// (`create_keys: true`), the others read them, and the caller's private key signs the
/// runtime's access tokens. Every instance is stopped when the fleet is dropped.
#[derive(Debug)]
pub struct Fleet {
    servers: Vec<Server>,
    launch: Arc<Launch>,
    // Declared last, so removed after the servers are stopped: secrets, logs, runtime files.
    _dir: TempDir,
}

impl Fleet {
    /// Starts `instances` instances, one after the other, and returns once all answer.
    pub async fn start(hopeit: &Hopeit, instances: usize) -> Result<Self, Error> {
        let dir = tempfile::Builder::new()
            .prefix("appwire-hopeit-")
            .tempdir()
            .map_err(Error::io("cannot create a temporary directory"))?;
        let ports = free_ports(instances).map_err(Error::io("cannot find free ports"))?;
        let hosts: Vec<String> = ports.iter().map(|port| url(*port)).collect();
        let env = HashMap::from([
            ("APPWIRE_TARGET_HOSTS".to_owned(), hosts.join(",")),
            (
                "APPWIRE_SECRETS".to_owned(),
                dir.path().join("secrets").display().to_string(),
            ),
            ("APPWIRE_AUTH_PASSPHRASE".to_owned(), PASSPHRASE.to_owned()),
        ]);
        let launch = Arc::new(Launch {
            hopeit: hopeit.clone(),
            dir: dir.path().to_owned(),
            env,
        });
        let mut fleet = Self {
            servers: Vec::new(),
            launch,
            _dir: dir,
        };
        for port in ports {
            let mut server = Server {
                launch: Arc::clone(&fleet.launch),
                port,
                process: None,
            };
            server.start().await?;
            fleet.servers.push(server);
        }
        Ok(fleet)
    }

    /// The variables the caller's manifest reads: the instances as `APPWIRE_TARGET_HOSTS`, in
    /// order, and the caller's key as `APPWIRE_SECRETS` and `APPWIRE_AUTH_PASSPHRASE`.
    pub fn env(&self) -> &HashMap<String, String> {
        &self.launch.env
    }

    /// The instances, in `APPWIRE_TARGET_HOSTS` order.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The instances, to stop and start them.
    pub fn servers_mut(&mut self) -> &mut [Server] {
        &mut self.servers
    }

    /// The settings section `connection` of the caller's manifest, expanded with
    /// [`env`](Self::env): to build a client with some of them changed.
    pub fn settings(&self, connection: &str) -> Result<ConnectionSettings, Error> {
        let settings_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Settings {
            connection: connection.to_owned(),
            source,
        };
        let path = self.launch.hopeit.caller_manifest();
        let text = fs::read_to_string(&path)
            .map_err(Error::io(format!("cannot read {}", path.display())))?;
        let manifest: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| settings_error(e.into()))?;
        let section = manifest
            .pointer(&format!("/settings/{connection}"))
            .ok_or_else(|| settings_error("no such section".into()))?;
        ConnectionSettings::from_json(connection, &section.to_string(), self.env())
            .map_err(|e| settings_error(e.into()))
    }
}

/// What every instance of a fleet is started with.
#[derive(Debug)]
struct Launch {
    hopeit: Hopeit,
    dir: PathBuf,
    env: HashMap<String, String>,
}

/// One `hopeit_server`, on its own port, in its own process group. Dropping it kills the group.
#[derive(Debug)]
pub struct Server {
    launch: Arc<Launch>,
    port: u16,
    process: Option<Process>,
}

#[derive(Debug)]
struct Process {
    child: Child,
    /// Held open: the script running the server kills it when this pipe closes, so the
    /// server goes with this process however it ends.
    _stdin: Option<ChildStdin>,
}

impl Server {
    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The base URL, as in `connection_str`.
    pub fn url(&self) -> String {
        url(self.port)
    }

    /// What the target app answers as its instance id.
    pub fn instance(&self) -> String {
        self.port.to_string()
    }

    /// Starts the server (again) on its port and waits until it answers `GET
    /// /api/docs/swagger.json`; nothing happens when it runs already.
    pub async fn start(&mut self) -> Result<(), Error> {
        if self.process.is_some() {
            return Ok(());
        }
        let launch = &self.launch;
        let port = self.port;
        let log = launch.dir.join(format!("server-{port}.log"));
        let runtime_dir = launch.dir.join(format!("run-{port}"));
        fs::create_dir_all(&runtime_dir).map_err(Error::io(format!(
            "cannot create {}",
            runtime_dir.display()
        )))?;
        let open_log = || {
            File::options()
                .create(true)
                .append(true)
                .open(&log)
                .map_err(Error::io(format!("cannot open {}", log.display())))
        };
        let configs = [TARGET_CONFIGS.as_slice(), &[CALLER_CONFIG]].concat();
        let mut command = launch.hopeit.command(&launch.hopeit.python());
        command
            .arg(launch.hopeit.serve_script())
            .arg(launch.hopeit.bin("hopeit_server"))
            .arg("run")
            .arg("--host=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--config-files={}", configs.join(",")))
            .arg(format!("--api-auto={}", API_INFO.join(";")))
            .envs(&launch.env)
            .env("APPWIRE_INSTANCE", self.instance())
            // gunicorn's control socket goes there rather than to `~/.gunicorn/`.
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .stdin(Stdio::piped())
            .stdout(open_log()?)
            .stderr(open_log()?)
            .process_group(0);
        // Where this start's lines begin: the log is kept across restarts.
        let log_from = fs::metadata(&log).map_or(0, |m| m.len());
        let mut child = command
            .spawn()
            .map_err(Error::io("cannot start hopeit_server"))?;
        let stdin = child.stdin.take();
        self.process = Some(Process {
            child,
            _stdin: stdin,
        });
        self.wait_until_ready(&log, log_from).await
    }

    /// Kills the server's process group and waits until its port refuses connections.
    pub async fn stop(&mut self) -> Result<(), Error> {
        self.kill().map_err(Error::io(format!(
            "cannot stop the server on port {}",
            self.port
        )))?;
        let deadline = Instant::now() + SHUTDOWN;
        while TcpStream::connect(self.addr()).await.is_ok() {
            if Instant::now() >= deadline {
                return Err(Error::StillListening {
                    port: self.port,
                    waited: SHUTDOWN,
                });
            }
            sleep(POLL).await;
        }
        Ok(())
    }

    /// Waits until the server answers and its log says it is the one listening on the port,
    /// not another process that took the port while it was free.
    async fn wait_until_ready(&mut self, log: &Path, log_from: u64) -> Result<(), Error> {
        let listening = format!("Listening at: {}", self.url());
        let started = Instant::now();
        loop {
            let exited = match &mut self.process {
                Some(process) => process
                    .child
                    .try_wait()
                    .map_err(Error::io("cannot wait for hopeit_server"))?,
                None => None,
            };
            if let Some(status) = exited {
                let _ = self.kill();
                return Err(Error::Exited {
                    port: self.port,
                    status,
                    log: tail(log),
                });
            }
            if answers(self.addr(), DOCS).await && logged_since(log, log_from, &listening) {
                return Ok(());
            }
            if started.elapsed() >= STARTUP {
                let _ = self.kill();
                return Err(Error::NotReady {
                    port: self.port,
                    waited: STARTUP,
                    log: tail(log),
                });
            }
            sleep(POLL).await;
        }
    }

    /// SIGKILL to the whole group (the script, gunicorn's arbiter and its worker), then reaps
    /// the script.
    fn kill(&mut self) -> io::Result<()> {
        let Some(mut process) = self.process.take() else {
            return Ok(());
        };
        match kill_process_group(Pid::from_child(&process.child), Signal::KILL) {
            Ok(()) | Err(Errno::SRCH) => {}
            Err(e) => {
                let _ = process.child.kill();
                let _ = process.child.wait();
                return Err(e.into());
            }
        }
        process.child.wait().map(drop)
    }

    fn addr(&self) -> SocketAddr {
        (Ipv4Addr::LOCALHOST, self.port).into()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

pub(crate) fn url(port: u16) -> String {
    format!("http://127.0.0.1:{port}")
}

/// `n` different ports nothing listens on right now.
pub(crate) fn free_ports(n: usize) -> io::Result<Vec<u16>> {
    // All bound at once, so that they differ.
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<io::Result<Vec<_>>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect()
}

/// Whether `GET path` answers 200.
async fn answers(addr: SocketAddr, path: &str) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut status_line = [0; 12];
        stream.read_exact(&mut status_line).await?;
        io::Result::Ok(status_line.ends_with(b" 200"))
    };
    matches!(
        timeout(Duration::from_secs(2), exchange).await,
        Ok(Ok(true))
    )
}

/// Whether the log has `line` after its first `from` bytes.
pub(crate) fn logged_since(log: &Path, from: u64, line: &str) -> bool {
    let text = fs::read(log).unwrap_or_default();
    let new = text
        .get(usize::try_from(from).unwrap_or(usize::MAX)..)
        .unwrap_or_default();
    String::from_utf8_lossy(new).contains(line)
}

/// The last lines of a log, for error messages.
pub(crate) fn tail(log: &Path) -> String {
    const LINES: usize = 40;
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LINES)..].join("\n")
}
