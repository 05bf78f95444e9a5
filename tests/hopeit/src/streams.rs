//! A hopeit server running the `shop` app of `apps/streams/` against a test's Redis, with its
//! STREAM events consuming.

use std::fs::{self, File};
use std::io;
use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::time::Duration;

use appwire_test_support::redis::{Resp, RespConnection};
use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process_group};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep, timeout};

use crate::fleet::{POLL, STARTUP, free_ports, logged_since, tail, url};
use crate::hopeit::{Error, Hopeit};

/// Longest a server may take to stop after SIGTERM before it is killed: hopeit waits
/// `read_stream_timeout + 5 s` per app before it closes its Redis pools, about 8 s in all.
const CLEAN_STOP: Duration = Duration::from_secs(15);
/// Longest one HTTP exchange with the server may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The configs the server runs, relative to the apps' directory, in the order hopeit needs:
/// server, the Redis Streams plugin (which sets up the connection), app.
const CONFIGS: [&str; 3] = [
    "streams/server-config.json",
    "streams/redis-streams-plugin.json",
    shop::APP_CONFIG,
];

/// The names the `shop` app of `apps/streams/` uses, for tests to write and read its streams.
pub mod shop {
    /// The app config, relative to the apps' directory.
    pub const APP_CONFIG: &str = "streams/config/app-config.json";
    /// Where the app's events are routed: `/api/shop/1x0/<event path>`.
    pub const API: &str = "/api/shop/1x0";
    /// The `type` field of every message the app writes and the only one its consumers
    /// accept: the Python `module.qualname` of its payload class.
    pub const ORDER_TYPE: &str = "shop.model.OrderPlaced";

    /// Written by the POST event `place_order` (path `place-order`) with hopeit's defaults
    /// (`lz4`, `json+base64`), on queues `AUTO` and `high`: keys `appwire.from_hopeit` and
    /// `appwire.from_hopeit.high`.
    pub const FROM_HOPEIT: &str = "appwire.from_hopeit";

    /// Read by the STREAM event `record_to_hopeit`, queues `high` then `AUTO`.
    pub const TO_HOPEIT: &str = "appwire.to_hopeit";
    /// The consumer group of `record_to_hopeit`.
    pub const TO_HOPEIT_GROUP: &str = "hopeit-consumers";
    /// What `record_to_hopeit` consumed, published again (`PROPAGATE`: `appwire.hopeit_seen`
    /// or `appwire.hopeit_seen.high`) with compression `none` and serialization `json`, so
    /// that its `payload` field is the JSON itself.
    pub const HOPEIT_SEEN: &str = "appwire.hopeit_seen";

    /// Read by the STREAM event `relay`, queue `AUTO`.
    pub const RELAY_IN: &str = "appwire.relay_in";
    /// The consumer group of `relay`.
    pub const RELAY_GROUP: &str = "hopeit-relay";
    /// What `relay` consumed, published again (`PROPAGATE`) with hopeit's defaults (`lz4`,
    /// `json+base64`).
    pub const RELAY_OUT: &str = "appwire.relay_out";

    /// The POST events writing one compression each: event path, stream, `comp`, `ser`.
    pub const PUBLISHERS: [(&str, &str, &str, &str); 6] = [
        ("publish-none", "hopeit.out.none", "none", "json"),
        ("publish-lz4", "hopeit.out.lz4", "lz4", "json+base64"),
        ("publish-zip", "hopeit.out.zip", "zip", "json"),
        ("publish-gzip", "hopeit.out.gzip", "gzip", "json+base64"),
        ("publish-bz2", "hopeit.out.bz2", "bz2", "json"),
        ("publish-lzma", "hopeit.out.lzma", "lzma", "json+base64"),
    ];
}

/// A STREAM event of the app: the keys it reads and its consumer group.
#[derive(Debug)]
struct Consumer {
    keys: Vec<String>,
    group: String,
}

/// One `hopeit_server` running the `shop` app with `--start-streams`, on a port of its own, in a
/// process group of its own. Dropping it kills the group at once; [`stop`](Self::stop) stops it
/// cleanly.
#[derive(Debug)]
pub struct HopeitStreams {
    port: u16,
    process: Option<Process>,
    log: PathBuf,
    // Declared last, so removed after the server is stopped.
    _dir: TempDir,
}

#[derive(Debug)]
struct Process {
    child: Child,
    /// Held open: `serve.py` kills the server when this pipe closes, so the server goes with
    /// this process however it ends.
    _stdin: Option<ChildStdin>,
}

impl HopeitStreams {
    /// Starts the server with its streams on the Redis at `redis_url` (`redis://host:port`),
    /// and returns once it answers HTTP and every STREAM event of the app has created its
    /// consumer groups and is reading (`XREADGROUP`). Expects a fresh Redis: its readiness
    /// counts the clients whose last command was `XREADGROUP`.
    pub async fn start(hopeit: &Hopeit, redis_url: &str) -> Result<Self, Error> {
        let redis = redis_addr(redis_url)?;
        let consumers = consumers(&hopeit.apps().join(shop::APP_CONFIG))?;
        let dir = tempfile::Builder::new()
            .prefix("appwire-hopeit-streams-")
            .tempdir()
            .map_err(Error::io("cannot create a temporary directory"))?;
        let port = free_ports(1)
            .map_err(Error::io("cannot find a free port"))?
            .first()
            .copied()
            .unwrap_or_default();
        let log = dir.path().join("server.log");
        let runtime_dir = dir.path().join("run");
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
        let mut command = hopeit.command(&hopeit.python());
        command
            .arg(hopeit.serve_script())
            .arg(hopeit.bin("hopeit_server"))
            .arg("run")
            .arg("--host=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg("--start-streams")
            .arg(format!("--config-files={}", CONFIGS.join(",")))
            .env("PYTHONPATH", hopeit.apps().join("streams/src"))
            .env("APPWIRE_REDIS_URL", redis_url)
            // The plugin's `redis_auth` reads both; empty means no authentication.
            .env("REDIS_USERNAME", "")
            .env("REDIS_PASSWORD", "")
            // gunicorn's control socket goes there rather than to `~/.gunicorn/`.
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .stdin(Stdio::piped())
            .stdout(open_log()?)
            .stderr(open_log()?)
            .process_group(0);
        let mut child = command
            .spawn()
            .map_err(Error::io("cannot start hopeit_server"))?;
        let stdin = child.stdin.take();
        let mut server = Self {
            port,
            process: Some(Process {
                child,
                _stdin: stdin,
            }),
            log,
            _dir: dir,
        };
        server.wait_until_ready(redis, &consumers).await?;
        Ok(server)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        url(self.port)
    }

    /// What the server logged so far (INFO and up: every event run, every message consumed).
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// POSTs `json` to the event at `path`: an event path of the app such as `place-order`
    /// (under [`shop::API`]), or an absolute path starting with `/`. Returns the status and
    /// the body.
    pub async fn post(&self, path: &str, json: &str) -> Result<(u16, String), Error> {
        let path = if path.starts_with('/') {
            path.to_owned()
        } else {
            format!("{}/{path}", shop::API)
        };
        let addr = self.addr();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        );
        let exchange = async {
            let mut stream = TcpStream::connect(addr).await?;
            stream.write_all(request.as_bytes()).await?;
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await?;
            io::Result::Ok(response)
        };
        let what = || format!("POST {path} to the hopeit server on port {}", self.port);
        let response = timeout(HTTP_TIMEOUT, exchange)
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer"))
            .and_then(|r| r)
            .map_err(Error::io(what()))?;
        parse_response(&response)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not an HTTP response"))
            .map_err(Error::io(what()))
    }

    /// Stops the server cleanly (SIGTERM: hopeit stops its stream loops and closes its Redis
    /// pools), killing it if it has not ended within 15 s.
    pub async fn stop(&mut self) -> Result<(), Error> {
        let port = self.port;
        let stopping = move |e: io::Error| Error::Io {
            what: format!("cannot stop the hopeit server on port {port}"),
            source: e,
        };
        if let Some(process) = &mut self.process {
            match kill_process_group(Pid::from_child(&process.child), Signal::TERM) {
                Ok(()) | Err(Errno::SRCH) => {}
                Err(e) => return Err(stopping(e.into())),
            }
            let deadline = Instant::now() + CLEAN_STOP;
            while process.child.try_wait().map_err(stopping)?.is_none() && Instant::now() < deadline
            {
                sleep(POLL).await;
            }
        }
        self.kill().map_err(stopping)
    }

    /// SIGKILL to the whole group (`serve.py`, gunicorn's arbiter and its worker), as a crash
    /// would end it; returns once `serve.py` is reaped.
    pub fn kill(&mut self) -> io::Result<()> {
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

    async fn wait_until_ready(
        &mut self,
        redis: SocketAddr,
        consumers: &[Consumer],
    ) -> Result<(), Error> {
        let listening = format!("Listening at: {}", self.url());
        let started = Instant::now();
        let mut state = String::from("not answering HTTP");
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
                    log: tail(&self.log),
                });
            }
            if answers_http(self.addr()).await && logged_since(&self.log, 0, &listening) {
                match consumers_state(redis, consumers) {
                    Ok(None) => return Ok(()),
                    Ok(Some(not_yet)) => state = not_yet,
                    Err(e) => state = format!("Redis at {redis}: {e}"),
                }
            }
            if started.elapsed() >= STARTUP {
                let _ = self.kill();
                return Err(Error::StreamsNotReady {
                    port: self.port,
                    waited: STARTUP,
                    state,
                    log: tail(&self.log),
                });
            }
            sleep(POLL).await;
        }
    }
}

impl Drop for HopeitStreams {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// The STREAM events of the app config at `path`.
fn consumers(path: &Path) -> Result<Vec<Consumer>, Error> {
    let text =
        fs::read_to_string(path).map_err(Error::io(format!("cannot read {}", path.display())))?;
    let invalid = |what: String| Error::Io {
        what: format!("{}: {what}", path.display()),
        source: io::Error::new(io::ErrorKind::InvalidData, "not an app config"),
    };
    let config: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let events = config
        .get("events")
        .and_then(|e| e.as_object())
        .ok_or_else(|| invalid("no events".to_owned()))?;
    let mut consumers = Vec::new();
    for (name, event) in events {
        if event.get("type").and_then(|t| t.as_str()) != Some("STREAM") {
            continue;
        }
        let read = event.get("read_stream");
        let field = |key: &str| read.and_then(|r| r.get(key)).and_then(|v| v.as_str());
        let (Some(stream), Some(group)) = (field("name"), field("consumer_group")) else {
            return Err(invalid(format!("event {name} has no read_stream")));
        };
        let queues: Vec<&str> = read
            .and_then(|r| r.get("queues"))
            .and_then(|q| q.as_array())
            .map(|q| q.iter().filter_map(|q| q.as_str()).collect())
            .unwrap_or_else(|| vec!["AUTO"]);
        let keys = queues
            .iter()
            .map(|queue| match *queue {
                "AUTO" => stream.to_owned(),
                queue => format!("{stream}.{queue}"),
            })
            .collect();
        consumers.push(Consumer {
            keys,
            group: group.to_owned(),
        });
    }
    Ok(consumers)
}

/// `None` once every consumer group exists and as many clients are in `XREADGROUP` as there
/// are STREAM events; else what is missing.
fn consumers_state(redis: SocketAddr, consumers: &[Consumer]) -> io::Result<Option<String>> {
    let mut connection = RespConnection::connect(redis)?;
    let mut missing = Vec::new();
    for consumer in consumers {
        for key in &consumer.keys {
            let groups = connection.command(&["XINFO", "GROUPS", key])?;
            if !has_group(&groups, &consumer.group) {
                missing.push(format!("{} on {key}", consumer.group));
            }
        }
    }
    let clients = connection.command(&["CLIENT", "LIST"])?;
    let reading = clients
        .text()
        .unwrap_or_default()
        .lines()
        .filter(|line| line.split(' ').any(|field| field == "cmd=xreadgroup"))
        .count();
    if missing.is_empty() && reading >= consumers.len() {
        return Ok(None);
    }
    Ok(Some(format!(
        "{reading} of {} STREAM events reading (XREADGROUP); consumer groups missing: {missing:?}",
        consumers.len()
    )))
}

/// Whether an `XINFO GROUPS` reply lists `group`.
fn has_group(reply: &Resp, group: &str) -> bool {
    reply.items().unwrap_or_default().iter().any(|info| {
        info.items()
            .unwrap_or_default()
            .chunks(2)
            .any(|pair| match pair {
                [name, value] => {
                    name.text().as_deref() == Some("name") && value.text().as_deref() == Some(group)
                }
                _ => false,
            })
    })
}

/// The address of `redis://host:port[/db]`.
fn redis_addr(redis_url: &str) -> Result<SocketAddr, Error> {
    let invalid = || Error::Io {
        what: format!("not a redis://host:port URL: {redis_url}"),
        source: io::Error::new(io::ErrorKind::InvalidInput, "invalid Redis URL"),
    };
    let rest = redis_url.strip_prefix("redis://").ok_or_else(invalid)?;
    let authority = rest.split('/').next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    host_port
        .to_socket_addrs()
        .map_err(Error::io(format!("cannot resolve {host_port}")))?
        .next()
        .ok_or_else(invalid)
}

/// Whether something answers HTTP on `addr`, whatever the status: the worker is serving.
async fn answers_http(addr: SocketAddr) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut start = [0; 7];
        stream.read_exact(&mut start).await?;
        io::Result::Ok(&start == b"HTTP/1.")
    };
    matches!(
        timeout(Duration::from_secs(2), exchange).await,
        Ok(Ok(true))
    )
}

/// The status and body of a whole HTTP/1.1 response.
fn parse_response(response: &[u8]) -> Option<(u16, String)> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let chunked = head.lines().any(|line| {
        let line = line.to_ascii_lowercase();
        line.starts_with("transfer-encoding:") && line.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_owned()
    };
    Some((status, body))
}

fn dechunk(mut body: &str) -> Option<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n")?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        if size == 0 {
            return Some(out);
        }
        out.push_str(rest.get(..size)?);
        body = rest.get(size..)?.strip_prefix("\r\n")?;
    }
}
