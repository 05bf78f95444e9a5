//! Loopback test servers for appwire's tests and benchmarks: scripted hosts that record what
//! they receive, hosts whose port refuses connections, and raw hosts that break HTTP on purpose.
//!
//! Every server runs as tasks of the caller's own tokio runtime, so that with a paused clock
//! the runtime is never idle while a request is on its way: time then moves only when every
//! task waits on a timer (a scripted delay, a backoff, a timeout).

#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

pub mod redis;

/// A request as a test host received it.
#[derive(Debug, Clone)]
pub struct Captured {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Captured {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The request again, as an `http::Request`, for verifiers.
    pub fn to_http(&self) -> http::Request<Bytes> {
        let uri = match &self.query {
            Some(q) => format!("{}?{q}", self.path),
            None => self.path.clone(),
        };
        let mut request = http::Request::builder()
            .method(self.method.as_str())
            .uri(uri)
            .body(self.body.clone())
            .expect("request");
        *request.headers_mut() = self.headers.clone();
        request
    }
}

/// What a scripted host answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
    pub delay: Option<Duration>,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    pub fn json(body: &str) -> Self {
        Self::status(200)
            .content_type("application/json")
            .body(body)
    }

    pub fn ok() -> Self {
        Self::json(r#"{"ok": true}"#)
    }

    pub fn content_type(self, value: &str) -> Self {
        self.header("content-type", value)
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

type Script = dyn Fn(usize, &Captured) -> Reply + Send + Sync;

/// The tasks serving a host: its accept loop and its connections.
#[derive(Clone, Default)]
struct Tasks(Arc<Mutex<Vec<tokio::task::AbortHandle>>>);

impl Tasks {
    fn add<T>(&self, task: &tokio::task::JoinHandle<T>) {
        self.0.lock().expect("lock").push(task.abort_handle());
    }
}

/// A test host: its base URL and what it received.
#[derive(Clone)]
pub struct Host {
    pub url: String,
    hits: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Captured>>>,
    tasks: Tasks,
    /// Connections accepted (by scripted hosts).
    connections: Arc<AtomicUsize>,
    /// Keeps a refusing host's port bound, so that no other test's server takes it.
    _reserved: Option<Arc<TcpSocket>>,
}

impl Host {
    /// Requests (or connections, for raw hosts) received.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Connections a scripted host accepted.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Captured> {
        self.requests.lock().expect("lock").clone()
    }

    pub fn last(&self) -> Captured {
        self.requests().pop().expect("a request")
    }

    /// Stops the host as a crashed server stops: it accepts nothing more, and its open
    /// connections are closed.
    pub fn stop(&self) {
        for task in self.tasks.0.lock().expect("lock").drain(..) {
            task.abort();
        }
    }
}

/// A host answering with `script(n, request)` for its `n`-th request (from 0).
pub async fn scripted(script: impl Fn(usize, &Captured) -> Reply + Send + Sync + 'static) -> Host {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let script: Arc<Script> = Arc::new(script);
    let (h, r) = (hits.clone(), requests.clone());
    let tasks = Tasks::default();
    let t = tasks.clone();
    let connections = Arc::new(AtomicUsize::new(0));
    let accepted = connections.clone();
    let accept = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            accepted.fetch_add(1, Ordering::SeqCst);
            let (hits, requests, script) = (h.clone(), r.clone(), script.clone());
            let service = service_fn(move |request: hyper::Request<Incoming>| {
                let (hits, requests, script) = (hits.clone(), requests.clone(), script.clone());
                async move {
                    let (parts, body) = request.into_parts();
                    let body = body
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    let captured = Captured {
                        method: parts.method.to_string(),
                        path: parts.uri.path().to_owned(),
                        query: parts.uri.query().map(str::to_owned),
                        headers: parts.headers,
                        body,
                    };
                    let n = hits.fetch_add(1, Ordering::SeqCst);
                    let reply = script(n, &captured);
                    requests.lock().expect("lock").push(captured);
                    if let Some(delay) = reply.delay {
                        tokio::time::sleep(delay).await;
                    }
                    let mut response = hyper::Response::new(Full::new(Bytes::from(reply.body)));
                    *response.status_mut() = StatusCode::from_u16(reply.status).expect("status");
                    for (name, value) in reply.headers {
                        response
                            .headers_mut()
                            .append(name, HeaderValue::from_str(&value).expect("value"));
                    }
                    Ok::<_, Infallible>(response)
                }
            });
            let connection = tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            t.add(&connection);
        }
    });
    tasks.add(&accept);
    Host {
        url,
        hits,
        requests,
        tasks,
        connections,
        _reserved: None,
    }
}

/// A host that always answers `reply`.
pub async fn always(reply: Reply) -> Host {
    scripted(move |_, _| reply.clone()).await
}

/// A host whose port refuses connections.
pub async fn refusing() -> Host {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .expect("bind");
    let url = format!("http://{}", socket.local_addr().expect("addr"));
    Host {
        url,
        hits: Arc::new(AtomicUsize::new(0)),
        requests: Arc::new(Mutex::new(Vec::new())),
        tasks: Tasks::default(),
        connections: Arc::default(),
        _reserved: Some(Arc::new(socket)),
    }
}

/// How a raw host misbehaves once it has read a request.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Closes the connection without answering.
    Hangup,
    /// Sends the status line, headers promising 100 bytes and 10 of them, then closes.
    Truncate,
    /// Sends the status line, headers promising 100 bytes and 10 of them, then resets.
    Reset,
    /// Answers 200 with a chunked body of 2 KiB, in two chunks.
    Chunked,
}

/// A host speaking raw TCP: each accepted connection is handed to `serve` with the host's hit
/// counter, on a task of its own that stops with the host.
fn raw_host<F, Fut>(listener: TcpListener, serve: F) -> Host
where
    F: Fn(TcpStream, Arc<AtomicUsize>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let tasks = Tasks::default();
    let t = tasks.clone();
    let accept = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let connection = tokio::spawn(serve(stream, h.clone()));
            t.add(&connection);
        }
    });
    tasks.add(&accept);
    Host {
        url,
        hits,
        requests: Arc::new(Mutex::new(Vec::new())),
        tasks,
        connections: Arc::default(),
        _reserved: None,
    }
}

/// `200 {"ok": true}`, kept alive.
const OK_RESPONSE: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"ok\": true}";

/// A host speaking raw HTTP/1.1 that fails every request with `fault`.
pub async fn faulty(fault: Fault) -> Host {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    raw_host(listener, move |mut stream, hits| async move {
        if read_request(&mut stream).await.is_none() {
            return;
        }
        hits.fetch_add(1, Ordering::SeqCst);
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                    content-length: 100\r\n\r\n{\"partial\"";
        match fault {
            Fault::Hangup => {}
            Fault::Truncate => {
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
            Fault::Reset => {
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.set_zero_linger();
            }
            Fault::Chunked => {
                let chunk = format!("400\r\n{}\r\n", "x".repeat(1024));
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                     transfer-encoding: chunked\r\n\r\n{chunk}{chunk}0\r\n\r\n"
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            }
        }
    })
}

/// Reads one request (head and `content-length` body).
async fn read_request(stream: &mut TcpStream) -> Option<()> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
        let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if data.len() >= end + 4 + length {
            return Some(());
        }
    }
}

/// A host speaking raw HTTP/1.1 that answers the first request of each connection with 200
/// `{"ok": true}`, keep-alive and without `Connection: close`, then closes the connection
/// `linger` later without reading anything more: a server's idle timeout racing the client's
/// next request. A request the client sends on it meanwhile is never read, so closing the
/// socket with it unread resets the connection. `hits` counts answered requests.
pub async fn closing_after_answer(linger: Duration) -> Host {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    raw_host(listener, move |mut stream, hits| async move {
        if read_request(&mut stream).await.is_none() {
            return;
        }
        if stream.write_all(OK_RESPONSE.as_bytes()).await.is_err() {
            return;
        }
        hits.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(linger).await;
        drop(stream);
    })
}

/// A host that accepts each connection and, as soon as the request starts to arrive, closes
/// it unread and unanswered, so that the client sees its new connection reset. `hits` counts
/// connections.
pub async fn closing_unread() -> Host {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    raw_host(listener, |stream, hits| async move {
        hits.fetch_add(1, Ordering::SeqCst);
        let _ = stream.readable().await;
        drop(stream);
    })
}

/// A host speaking raw HTTP/1.1 that answers the first request of each connection with 200
/// `{"ok": true}`, keep-alive, then reads the next request on it whole and closes the
/// connection without answering: a server that may have acted on a request it never answered.
/// `hits` counts requests read.
pub async fn hanging_up_on_the_second_request() -> Host {
    on_the_second_request(false).await
}

/// [`hanging_up_on_the_second_request`], but the connection is reset rather than closed, as
/// a proxy or a crashing server may abort it after reading the request.
pub async fn resetting_on_the_second_request() -> Host {
    on_the_second_request(true).await
}

async fn on_the_second_request(reset: bool) -> Host {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    raw_host(listener, move |mut stream, hits| async move {
        if read_request(&mut stream).await.is_none() {
            return;
        }
        hits.fetch_add(1, Ordering::SeqCst);
        if stream.write_all(OK_RESPONSE.as_bytes()).await.is_err() {
            return;
        }
        if read_request(&mut stream).await.is_some() {
            hits.fetch_add(1, Ordering::SeqCst);
        }
        if reset {
            let _ = stream.set_zero_linger();
        } else {
            let _ = stream.shutdown().await;
        }
    })
}
