//! Requests that die on a kept-alive connection the server had already closed: told apart
//! from other failures, so that they are sent again at once on another connection.
//!
//! A server may close a kept-alive connection at any time (its idle timeout, a restart)
//! without `Connection: close`; a request the client sends on it meanwhile fails although the
//! server never read it. hyper-util sends a request again by itself when it had not started
//! to write it; what reaches here was written, or started to be. Such a failure is a
//! *stale connection* when the connection had answered a request before (so it came from the
//! pool) and ended with no response, by a reset (or a broken pipe on our write) or an end of
//! stream.
//!
//! Neither tells whether the server read the request first: a server closing an idle
//! connection resets it with our request unread, but a proxy or a crashing server may reset
//! or close it after reading. So a stale connection's request is sent again only when
//! repeating it is safe (a GET, or an event marked idempotent), as Go's net/http decides; a
//! POST fails as ambiguous. What keeps POSTs off stale connections is the pool's idle timeout,
//! below the servers' keep-alive.

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, PoisonError};

use http::Extensions;
use hyper_util::client::legacy::connect::HttpInfo;

/// Replays of one attempt on stale connections: each stale connection in the pool costs one,
/// and a host whose every connection dies this way fails the attempt after a few instead of
/// being tried forever.
pub(crate) const MAX_REPLAYS: u32 = 4;

/// How a stale connection ended, with no response received on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StaleClose {
    /// Reset, or broken on our write.
    Reset,
    /// End of stream.
    Eof,
}

impl StaleClose {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Reset => "reset",
            Self::Eof => "eof",
        }
    }
}

/// A connection, by its local port and its remote port and address (the low 32 bits of an
/// IPv6 one): a number compared in a few instructions. Two connections that share it are
/// taken for one, which at worst sends a request safe to repeat again at once instead of
/// counting its failure against the host.
fn key(local: SocketAddr, remote: SocketAddr) -> u64 {
    let ip = match remote.ip() {
        IpAddr::V4(ip) => u32::from(ip),
        IpAddr::V6(ip) => u128::from(ip) as u32,
    };
    (u64::from(local.port()) << 48) | (u64::from(remote.port()) << 32) | u64::from(ip)
}

/// Connections remembered at most; past that the record starts again (a connection
/// forgotten is only taken for a new one: its failure is not replayed).
const KEPT: usize = 4096;

/// The connections of one client that have answered a request.
#[derive(Debug, Default)]
pub(crate) struct Answered(Mutex<BTreeSet<u64>>);

impl Answered {
    /// Notes the connection `response` arrived on.
    pub(crate) fn note(&self, response: &reqwest::Response) {
        let Some(info) = response.extensions().get::<HttpInfo>() else {
            return;
        };
        let mut answered = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if answered.len() >= KEPT {
            answered.clear();
        }
        answered.insert(key(info.local_addr(), info.remote_addr()));
    }

    /// How `error` ended its request, if it ended it on a stale connection; the connection is
    /// forgotten, since it is not used again.
    pub(crate) fn stale(&self, error: &reqwest::Error) -> Option<StaleClose> {
        if error.is_connect() || error.is_timeout() || error.is_builder() {
            return None;
        }
        let mut addresses = None;
        let mut close = None;
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(e) = source {
            if let Some(e) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
                addresses = e.connect_info().and_then(|connected| {
                    let mut extras = Extensions::new();
                    connected.get_extras(&mut extras);
                    let info = extras.get::<HttpInfo>()?;
                    Some(key(info.local_addr(), info.remote_addr()))
                });
            } else if let Some(e) = e.downcast_ref::<hyper::Error>() {
                if e.is_incomplete_message() {
                    close = Some(StaleClose::Eof);
                }
            } else if let Some(e) = e.downcast_ref::<io::Error>()
                && matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                )
            {
                close = Some(StaleClose::Reset);
            }
            source = e.source();
        }
        let close = close?;
        let reused = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&addresses?);
        reused.then_some(close)
    }
}
