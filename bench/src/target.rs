//! The target: hosts answering `get_item` with a small JSON item. Each host is a child process
//! of the bench (`appwire-bench serve`) with a one-thread tokio runtime, so that its CPU time
//! is never counted against a client, and so that the failover case can kill one as a server
//! crashes.

use std::convert::Infallible;
use std::error::Error;
use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::cpus::Placement;

/// The route of `get_item` on the target app `catalog` 0.30.
const ROUTE: &str = "/api/catalog/0x30/get-item";

/// What `get_item` answers.
const ITEM: &[u8] = br#"{"id":"item-1","name":"Desk lamp","price":25.0,"served_by":"bench"}"#;

/// Serves one host on a free loopback port, printing its base URL first, until standard input
/// closes: the bench holds it open, so a host never outlives the bench.
pub(crate) fn serve() -> Result<(), Box<dyn Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "http://{}", listener.local_addr()?)?;
        stdout.flush()?;
        drop(stdout);
        std::thread::spawn(|| {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
            std::process::exit(0);
        });
        loop {
            // A failed accept (out of descriptors, a connection reset while queued) ends
            // nothing but that connection.
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(answer))
                    .await;
            });
        }
    })
}

async fn answer(
    request: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (status, body): (_, &'static [u8]) = if request.uri().path() == ROUTE {
        (StatusCode::OK, ITEM)
    } else {
        (StatusCode::NOT_FOUND, b"{}")
    };
    let mut response = hyper::Response::new(Full::new(Bytes::from_static(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(response)
}

/// Running hosts, each a child process; all of them are killed when this is dropped.
pub(crate) struct Hosts {
    hosts: Vec<(Child, String)>,
}

impl Hosts {
    /// Starts `count` hosts with `bench serve`, on the hosts' CPUs.
    pub(crate) fn start(
        bench: &Path,
        count: usize,
        placement: &Placement,
    ) -> Result<Self, Box<dyn Error>> {
        let mut hosts = Self { hosts: Vec::new() };
        for _ in 0..count {
            let mut child = placement.spawn_host(
                Command::new(bench)
                    .arg("serve")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped()),
            )?;
            let url = match child.stdout.take() {
                Some(stdout) => {
                    let mut line = String::new();
                    BufReader::new(stdout).read_line(&mut line)?;
                    line.trim().to_owned()
                }
                None => String::new(),
            };
            hosts.hosts.push((child, url.clone()));
            if !url.starts_with("http://") {
                return Err(format!("a target host did not start (it printed {url:?})").into());
            }
        }
        Ok(hosts)
    }

    /// The hosts' base URLs.
    pub(crate) fn urls(&self) -> Vec<String> {
        self.hosts.iter().map(|(_, url)| url.clone()).collect()
    }

    /// Kills host `index` (SIGKILL): its port refuses connections from then on, and its open
    /// connections are closed by the kernel.
    pub(crate) fn kill(&mut self, index: usize) -> std::io::Result<()> {
        match self.hosts.get_mut(index) {
            Some((child, _)) => {
                child.kill()?;
                child.wait().map(drop)
            }
            None => Err(std::io::Error::other(format!("no host {index}"))),
        }
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for (child, _) in &mut self.hosts {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
