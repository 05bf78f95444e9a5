//! Redis Streams, wire-compatible with hopeit.redis-streams 0.30.1: `XADD … MAXLEN ~ n`,
//! groups created with `XGROUP CREATE … MKSTREAM`, `XREADGROUP`, `XACK`, plus `XAUTOCLAIM`
//! for redelivery and server-side scripts for schedules, dedup and dead letters.
//!
//! Commands go through one [`redis::aio::ConnectionManager`] (or a cluster connection),
//! which reconnects in the background; each subscriber's blocking reads get a connection of
//! their own with no response timeout, so that they never stall other commands and are never
//! cut short by one.

mod reply;
mod scripts;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use redis::aio::{
    ConnectionLike, ConnectionManager, ConnectionManagerConfig, MultiplexedConnection,
};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::Slot;
use redis::{AsyncConnectionConfig, Client, Cmd, RedisError, RedisFuture, Value};

use super::broker::{
    Appended, BoxFuture, Broker, Consumer, DeadLetter, Entry, GroupStart, Outgoing, Reader,
};
use super::{BrokerError, keys};
use crate::Error;
use crate::context::uuid_v4;

/// How long a command may take on the shared connection.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Scheduled messages moved into their stream per script call.
const DUE_PER_CALL: usize = 100;

/// A Redis Streams broker, on one server or a cluster. Clones share its connection.
#[derive(Clone)]
pub struct RedisBroker {
    conn: Conn,
    target: Target,
}

#[derive(Clone)]
enum Target {
    Single(Client),
    Cluster(Box<ClusterTarget>),
}

#[derive(Clone)]
struct ClusterTarget {
    client: ClusterClient,
    /// `redis` or `rediss`, as the nodes were given.
    scheme: &'static str,
}

impl std::fmt::Debug for RedisBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.target {
            Target::Single(_) => "single",
            Target::Cluster(_) => "cluster",
        };
        // The URL may carry a password: it is not shown.
        f.debug_struct("RedisBroker")
            .field("target", &kind)
            .finish_non_exhaustive()
    }
}

impl RedisBroker {
    /// Connects to the server at `url` (`redis://host:port[/db]`, `rediss://` for TLS).
    ///
    /// # Errors
    ///
    /// [`Error::Broker`] when the URL is wrong or the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let client = Client::open(url).map_err(|e| error("connect", None, &e))?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_max_delay(Duration::from_secs(2));
        let manager = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(|e| error("connect", None, &e))?;
        Ok(Self {
            conn: Conn::Single(manager),
            target: Target::Single(client),
        })
    }

    /// Connects to the cluster that `urls` (some of its nodes) belong to.
    ///
    /// # Errors
    ///
    /// [`Error::Broker`] when no node can be reached or the URLs are wrong.
    pub async fn connect_cluster(urls: &[String]) -> Result<Self, Error> {
        let client = ClusterClient::builder(urls.iter().map(String::as_str))
            .response_timeout(RESPONSE_TIMEOUT)
            .connection_timeout(CONNECT_TIMEOUT)
            .build()
            .map_err(|e| error("connect", None, &e))?;
        let conn = client
            .get_async_connection()
            .await
            .map_err(|e| error("connect", None, &e))?;
        let scheme = if urls.iter().any(|u| u.starts_with("rediss:")) {
            "rediss"
        } else {
            "redis"
        };
        Ok(Self {
            conn: Conn::Cluster(Box::new(conn)),
            target: Target::Cluster(Box::new(ClusterTarget { client, scheme })),
        })
    }

    async fn query<T: redis::FromRedisValue>(
        &self,
        operation: &'static str,
        key: &str,
        cmd: &Cmd,
    ) -> Result<T, Error> {
        cmd.query_async(&mut self.conn.clone())
            .await
            .map_err(|e| error(operation, Some(key), &e))
    }
}

/// The shared connection: one server's manager or a cluster's connection.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(Box<ClusterConnection>),
    Reader(MultiplexedConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
            Self::Reader(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Reader(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
            Self::Reader(c) => c.get_db(),
        }
    }
}

/// A Redis error as [`Error::Broker`]: retryable unless Redis refused the command itself.
fn error(operation: &'static str, key: Option<&str>, e: &RedisError) -> Error {
    let refused = e.code().is_some_and(|code| {
        !matches!(
            code,
            "NOGROUP"
                | "LOADING"
                | "TRYAGAIN"
                | "BUSY"
                | "CLUSTERDOWN"
                | "MOVED"
                | "ASK"
                | "MASTERDOWN"
                | "READONLY"
        )
    });
    Error::Broker(BrokerError {
        backend: "redis",
        operation,
        key: key.map(str::to_owned),
        message: e.to_string(),
        retryable: !refused,
    })
}

fn xadd(message: &Outgoing) -> Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(&message.key);
    if message.max_len > 0 {
        cmd.arg("MAXLEN").arg("~").arg(message.max_len);
    }
    cmd.arg("*");
    for (name, value) in &message.fields {
        cmd.arg(name).arg(value.as_slice());
    }
    cmd
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_millis() as u64
}

/// `t` in whole milliseconds, rounded up: a schedule kept in milliseconds is then never due
/// before its time.
fn unix_ms_up(t: SystemTime) -> u64 {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    since.as_millis() as u64 + u64::from(!since.subsec_nanos().is_multiple_of(1_000_000))
}

impl Broker for RedisBroker {
    fn publish<'a>(&'a self, batch: &'a [Outgoing]) -> BoxFuture<'a, Result<Vec<Appended>, Error>> {
        Box::pin(async move {
            let key = batch.first().map_or("", |m| m.key.as_str());
            if let [message] = batch
                && message.dedup.is_none()
            {
                let id = self.query("publish", key, &xadd(message)).await?;
                return Ok(vec![Appended {
                    id,
                    duplicate: false,
                }]);
            }
            if batch.iter().all(|m| m.dedup.is_none()) {
                // One pipeline, so the entries keep the batch's order and cost one round trip.
                let mut pipe = redis::pipe();
                for message in batch {
                    pipe.add_command(xadd(message));
                }
                let ids: Vec<String> = pipe
                    .query_async(&mut self.conn.clone())
                    .await
                    .map_err(|e| error("publish", Some(key), &e))?;
                return Ok(ids
                    .into_iter()
                    .map(|id| Appended {
                        id,
                        duplicate: false,
                    })
                    .collect());
            }
            let mut out = Vec::with_capacity(batch.len());
            for message in batch {
                out.push(match &message.dedup {
                    None => Appended {
                        id: self.query("publish", &message.key, &xadd(message)).await?,
                        duplicate: false,
                    },
                    Some(dedup) => {
                        let mut invocation = scripts::PUBLISH_ONCE.key(&message.key);
                        invocation
                            .key(keys::dedup_key(&message.key, &dedup.id))
                            .arg(dedup.window.as_millis().max(1) as u64)
                            .arg(message.max_len);
                        for (name, value) in &message.fields {
                            invocation.arg(name).arg(value.as_slice());
                        }
                        let (appended, id): (i64, String) = invocation
                            .invoke_async(&mut self.conn.clone())
                            .await
                            .map_err(|e| error("publish", Some(&message.key), &e))?;
                        Appended {
                            id,
                            duplicate: appended == 0,
                        }
                    }
                });
            }
            Ok(out)
        })
    }

    fn schedule<'a>(
        &'a self,
        message: &'a Outgoing,
        due: SystemTime,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let member =
                scripts::schedule_member(uuid_v4().as_str(), message.max_len, &message.fields);
            let mut cmd = redis::cmd("ZADD");
            cmd.arg(keys::delayed_key(&message.key))
                .arg(unix_ms_up(due))
                .arg(member);
            self.query::<i64>("schedule", &message.key, &cmd).await?;
            Ok(())
        })
    }

    fn deliver_due<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>, Error>> {
        Box::pin(async move {
            let now = unix_ms(SystemTime::now());
            let next: Option<String> = scripts::DELIVER_DUE
                .key(keys::delayed_key(key))
                .key(key)
                .arg(now)
                .arg(DUE_PER_CALL)
                .invoke_async(&mut self.conn.clone())
                .await
                .map_err(|e| error("deliver_due", Some(key), &e))?;
            Ok(next
                .and_then(|score| score.parse::<f64>().ok())
                .map(|due| Duration::from_millis((due as u64).saturating_sub(now))))
        })
    }

    fn streams<'a>(&'a self, pattern: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        Box::pin(async move {
            let mut found = Vec::new();
            for mut conn in self.nodes().await? {
                let mut cursor = 0u64;
                loop {
                    let mut cmd = redis::cmd("SCAN");
                    cmd.arg(cursor)
                        .arg("MATCH")
                        .arg(pattern)
                        .arg("TYPE")
                        .arg("stream")
                        .arg("COUNT")
                        .arg(1000);
                    let (next, keys): (u64, Vec<String>) = cmd
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| error("scan", Some(pattern), &e))?;
                    found.extend(keys);
                    cursor = next;
                    if cursor == 0 {
                        break;
                    }
                }
            }
            found.sort();
            found.dedup();
            Ok(found)
        })
    }

    fn ensure_group<'a>(
        &'a self,
        key: &'a str,
        group: &'a str,
        start: GroupStart,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("XGROUP");
            cmd.arg("CREATE").arg(key).arg(group).arg(start.id());
            cmd.arg("MKSTREAM");
            match cmd.query_async::<()>(&mut self.conn.clone()).await {
                Ok(()) => Ok(()),
                Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
                Err(e) => Err(error("create group", Some(key), &e)),
            }
        })
    }

    fn reader<'a>(
        &'a self,
        consumer: &'a Consumer,
    ) -> BoxFuture<'a, Result<Box<dyn Reader>, Error>> {
        Box::pin(async move {
            let conn = match &self.target {
                // No response timeout: a blocking read answers when its BLOCK is over.
                Target::Single(client) => Conn::Reader(
                    client
                        .get_multiplexed_async_connection_with_config(
                            &AsyncConnectionConfig::new()
                                .set_response_timeout(None)
                                .set_connection_timeout(Some(CONNECT_TIMEOUT)),
                        )
                        .await
                        .map_err(|e| error("connect", None, &e))?,
                ),
                Target::Cluster(cluster) => Conn::Cluster(Box::new(
                    cluster
                        .client
                        .get_async_connection_with_config(
                            redis::cluster::ClusterConfig::new()
                                .set_response_timeout(Duration::from_secs(24 * 3600)),
                        )
                        .await
                        .map_err(|e| error("connect", None, &e))?,
                )),
            };
            let reader: Box<dyn Reader> = Box::new(RedisReader {
                conn,
                consumer: consumer.clone(),
            });
            Ok(reader)
        })
    }

    fn reclaim<'a>(
        &'a self,
        key: &'a str,
        consumer: &'a Consumer,
        min_idle: Duration,
        count: usize,
    ) -> BoxFuture<'a, Result<Vec<Entry>, Error>> {
        Box::pin(async move {
            let mut claimed = Vec::new();
            let mut cursor = "0-0".to_owned();
            while claimed.len() < count {
                let mut cmd = redis::cmd("XAUTOCLAIM");
                cmd.arg(key)
                    .arg(&consumer.group)
                    .arg(&consumer.name)
                    .arg(min_idle.as_millis() as u64)
                    .arg(&cursor)
                    .arg("COUNT")
                    .arg(count - claimed.len());
                let reply: Value = self.query("reclaim", key, &cmd).await?;
                let (next, entries) =
                    reply::autoclaim(key, reply).ok_or_else(|| malformed("reclaim", key))?;
                claimed.extend(entries);
                if next == "0-0" {
                    break;
                }
                cursor = next;
            }
            if claimed.is_empty() {
                return Ok(claimed);
            }
            // XAUTOCLAIM does not say how often each was delivered; XPENDING does.
            let mut pipe = redis::pipe();
            for entry in &claimed {
                pipe.cmd("XPENDING")
                    .arg(key)
                    .arg(&consumer.group)
                    .arg(&entry.id)
                    .arg(&entry.id)
                    .arg(1);
            }
            let pending: Vec<Value> = pipe
                .query_async(&mut self.conn.clone())
                .await
                .map_err(|e| error("reclaim", Some(key), &e))?;
            for (entry, pending) in claimed.iter_mut().zip(pending) {
                entry.deliveries = reply::pending_deliveries(pending).unwrap_or(entry.deliveries);
            }
            Ok(claimed)
        })
    }

    fn ack<'a>(
        &'a self,
        key: &'a str,
        group: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut cmd = redis::cmd("XACK");
            cmd.arg(key).arg(group).arg(ids);
            self.query::<i64>("ack", key, &cmd).await?;
            Ok(())
        })
    }

    fn set_idle<'a>(
        &'a self,
        key: &'a str,
        consumer: &'a Consumer,
        id: &'a str,
        idle: Duration,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            // JUSTID: the delivery count stays as it is.
            let mut cmd = redis::cmd("XCLAIM");
            cmd.arg(key)
                .arg(&consumer.group)
                .arg(&consumer.name)
                .arg(0)
                .arg(id)
                .arg("IDLE")
                .arg(idle.as_millis() as u64)
                .arg("JUSTID");
            self.query::<Value>("claim", key, &cmd).await?;
            Ok(())
        })
    }

    fn dead_letter<'a>(
        &'a self,
        entry: &'a Entry,
        group: &'a str,
        reason: &'a DeadLetter,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut invocation = scripts::DEAD_LETTER.key(&entry.key);
            invocation
                .key(keys::dead_letter_key(&entry.key))
                .arg(group)
                .arg(&entry.id);
            for (name, value) in reason.fields(entry, group) {
                invocation.arg(name).arg(value);
            }
            invocation
                .invoke_async::<i64>(&mut self.conn.clone())
                .await
                .map_err(|e| error("dead_letter", Some(&entry.key), &e))?;
            Ok(())
        })
    }
}

impl RedisBroker {
    /// The connections a key scan runs on: the server, or each cluster primary.
    async fn nodes(&self) -> Result<Vec<Conn>, Error> {
        match &self.target {
            Target::Single(_) => Ok(vec![self.conn.clone()]),
            Target::Cluster(client) => {
                let mut conn = self.conn.clone();
                let nodes: String = redis::cmd("CLUSTER")
                    .arg("NODES")
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| error("scan", None, &e))?;
                let mut out = Vec::new();
                for address in reply::primaries(&nodes) {
                    let node = Client::open(format!("{}://{address}", client.scheme))
                        .map_err(|e| error("scan", None, &e))?;
                    out.push(Conn::Reader(
                        node.get_multiplexed_async_connection()
                            .await
                            .map_err(|e| error("scan", None, &e))?,
                    ));
                }
                Ok(out)
            }
        }
    }
}

fn malformed(operation: &'static str, key: &str) -> Error {
    Error::Broker(BrokerError {
        backend: "redis",
        operation,
        key: Some(key.to_owned()),
        message: "unexpected reply".to_owned(),
        retryable: false,
    })
}

struct RedisReader {
    conn: Conn,
    consumer: Consumer,
}

/// In a cluster, how long one blocking read of several slots' keys waits on the first slot
/// before the others are looked at again.
const CLUSTER_SLICE: Duration = Duration::from_millis(50);

impl RedisReader {
    async fn read_once(
        &mut self,
        keys: &[String],
        count: usize,
        block: Option<Duration>,
    ) -> Result<Vec<Entry>, Error> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&self.consumer.group)
            .arg(&self.consumer.name)
            .arg("COUNT")
            .arg(count);
        if let Some(block) = block {
            cmd.arg("BLOCK").arg(block.as_millis().max(1) as u64);
        }
        cmd.arg("STREAMS").arg(keys);
        for _ in keys {
            cmd.arg(">");
        }
        let key = keys.first().map_or("", String::as_str);
        let reply: Value = cmd
            .query_async(&mut self.conn)
            .await
            .map_err(|e| error("read", Some(key), &e))?;
        reply::read(reply).ok_or_else(|| malformed("read", key))
    }
}

impl Reader for RedisReader {
    fn read<'a>(
        &'a mut self,
        keys: &'a [String],
        count: usize,
        block: Duration,
    ) -> BoxFuture<'a, Result<Vec<Entry>, Error>> {
        Box::pin(async move {
            let mut entries = if matches!(self.conn, Conn::Cluster(_)) {
                self.read_cluster(keys, count, block).await?
            } else {
                self.read_once(keys, count, Some(block)).await?
            };
            // Redis answers in its own key order; the subscriber's is the priority.
            entries.sort_by_key(|e| keys.iter().position(|k| *k == e.key));
            Ok(entries)
        })
    }
}

impl RedisReader {
    /// A cluster reads one slot per command: the keys of one slot in one blocking read, those
    /// of several slots by turns, the first slot's blocking in short slices.
    async fn read_cluster(
        &mut self,
        keys: &[String],
        count: usize,
        block: Duration,
    ) -> Result<Vec<Entry>, Error> {
        let mut slots: Vec<(Slot, Vec<String>)> = Vec::new();
        for key in keys {
            let slot = Slot::for_key(key);
            match slots.iter_mut().find(|(s, _)| *s == slot) {
                Some((_, same)) => same.push(key.clone()),
                None => slots.push((slot, vec![key.clone()])),
            }
        }
        if let [(_, keys)] = slots.as_slice() {
            return self.read_once(keys, count, Some(block)).await;
        }
        let deadline = tokio::time::Instant::now() + block;
        loop {
            let mut found = Vec::new();
            for (_, keys) in &slots {
                found.extend(self.read_once(keys, count, None).await?);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if !found.is_empty() || left.is_zero() {
                return Ok(found);
            }
            let first = self
                .read_once(&slots[0].1, count, Some(left.min(CLUSTER_SLICE)))
                .await?;
            if !first.is_empty() {
                return Ok(first);
            }
        }
    }
}
