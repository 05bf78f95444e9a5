//! The streams workloads in a client process of their own (`appwire-bench streams-client`):
//! appwire's publisher and STREAM-event handler generated from `spec/streams/app-config.json`,
//! and the floor, a plain `redis` crate loop writing and reading the same encoding (hopeit's
//! fields in hopeit's order, JSON in base64 in an LZ4 frame), against one Redis server.
//! hopeit's own publisher and consumer are `python/streams_load.py`.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use appwire::messages::redis::RedisBroker;
use appwire::messages::{Delivery, Handler, HandlerError, SharedBroker};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::ValueEnum;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use redis::streams::StreamReadReply;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::load::{CallError, Measured, Tally};

/// The streams of `spec/streams/app-config.json`, typed by `spec/streams/orders.openapi.json`.
#[appwire::clients(manifest = "spec/streams/app-config.json")]
mod generated {}

use generated::streams::{self, Order};

/// The stream every workload writes and reads.
pub(crate) const STREAM: &str = "bench.orders";
/// The consumer group of `count_order`.
pub(crate) const GROUP: &str = "bench-consumers";
/// Orders per batch, and per read.
pub(crate) const BATCH: usize = 100;
/// hopeit's `type` of an order (`bench_streams.model.Order`, `python/bench_streams`).
const TYPE: &str = "bench_streams.model.Order";
/// hopeit's app key of the manifest's app.
const APP_KEY: &str = "bench_streams.1x0";
/// `{"allowed": true, "auth_type": "Unsecured"}` as hopeit writes it, base64-encoded.
const UNSECURED: &str = "eyJhbGxvd2VkIjogdHJ1ZSwgImF1dGhfdHlwZSI6ICJVbnNlY3VyZWQifQ==";

/// Who publishes and consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum StreamClient {
    /// appwire's generated publisher and `count_order` handler.
    Appwire,
    /// A plain `redis` crate loop.
    Redis,
    /// hopeit's engine and stream manager, in Python.
    Python,
}

impl StreamClient {
    pub(crate) const ALL: [Self; 3] = [Self::Appwire, Self::Redis, Self::Python];

    /// Its name in tables.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Appwire => "appwire, generated",
            Self::Redis => "redis crate loop (the floor)",
            Self::Python => "hopeit (Python)",
        }
    }

    /// Its name on the command line and in log file names.
    pub(crate) fn arg(self) -> &'static str {
        match self {
            Self::Appwire => "appwire",
            Self::Redis => "redis",
            Self::Python => "python",
        }
    }
}

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Orders published one after the other, each awaited.
    Publish,
    /// Orders published in batches of [`BATCH`], each batch one round trip.
    Batch,
    /// `--messages` orders written before, consumed and acknowledged.
    Consume,
    /// End-to-end latency with an idle consumer: one order at a time, the next 1 ms after the
    /// consumer saw it.
    Idle,
    /// End-to-end latency with a busy consumer: `--rate` orders a second.
    Busy,
    /// Lateness of scheduled orders: `--messages` orders due at random times over the run.
    Lateness,
}

impl Workload {
    /// Its name on the command line and in log file names.
    pub(crate) fn arg(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Batch => "batch",
            Self::Consume => "consume",
            Self::Idle => "idle",
            Self::Busy => "busy",
            Self::Lateness => "lateness",
        }
    }
}

/// How one streams run goes.
#[derive(Debug, Clone)]
pub(crate) struct StreamPlan {
    pub(crate) workload: Workload,
    /// Orders consumed, probed or scheduled (consume, idle, lateness).
    pub(crate) messages: usize,
    /// Publishing before the measured run (publish, batch).
    pub(crate) warmup: Duration,
    /// The measured run (publish, batch, busy; lateness: the span of the due times).
    pub(crate) duration: Duration,
    /// Orders per second (busy).
    pub(crate) rate: u64,
}

/// Runs `client` as `plan` says against the Redis server at `url`.
///
/// Figures: `calls` are the orders; latency is per publish (publish), per batch (batch),
/// from publish to the handler (idle, busy), or past the due time (lateness, whose `failed`
/// are the orders delivered before it).
pub(crate) async fn run(
    client: StreamClient,
    url: &str,
    plan: &StreamPlan,
) -> Result<Measured, CallError> {
    match client {
        StreamClient::Appwire => measure(&AppwireSide::connect(url).await?, url, plan).await,
        StreamClient::Redis => measure(&FloorSide::connect(url).await?, url, plan).await,
        StreamClient::Python => Err("hopeit's side runs in its own interpreter".into()),
    }
}

/// One side of the workloads: a publisher and a consumer of [`STREAM`].
trait Side {
    /// Publishes one order.
    async fn publish(&self, order: &Order) -> Result<(), CallError>;
    /// Publishes orders in one round trip, in order.
    async fn publish_batch(&self, orders: &[Order]) -> Result<(), CallError>;
    /// Publishes `order` at `at`.
    async fn schedule(&self, order: &Order, at: SystemTime) -> Result<(), CallError>;
    /// Starts consuming [`STREAM`] in [`GROUP`]: each order decoded is sent to `seen`, then
    /// acknowledged.
    async fn consume(&self, seen: mpsc::UnboundedSender<Seen>) -> Result<Consuming, CallError>;
}

/// An order as its consumer saw it.
struct Seen {
    order: Order,
    /// When (µs since the Unix epoch).
    at_us: i64,
}

impl Seen {
    fn now(order: Order) -> Self {
        Self {
            order,
            at_us: now_us(),
        }
    }

    /// How long after `order.sent_us` it was seen.
    fn after(&self) -> i64 {
        self.at_us - self.order.sent_us
    }
}

/// A consumer running; stopped when dropped.
struct Consuming(Vec<JoinHandle<()>>);

impl Drop for Consuming {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

async fn measure(side: &impl Side, url: &str, plan: &StreamPlan) -> Result<Measured, CallError> {
    let mut tally = Tally::new(None).map_err(|e| e.to_string())?;
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let mut orders = Orders::default();
    let cpu = crate::usage::cpu_time();
    let start;
    match plan.workload {
        Workload::Publish | Workload::Batch => {
            let size = if plan.workload == Workload::Batch {
                BATCH
            } else {
                1
            };
            let mut batch = Vec::with_capacity(size);
            let mut one = async |tally: Option<&mut Tally>| -> Result<(), CallError> {
                batch.clear();
                batch.extend((0..size).map(|_| orders.next(now_us())));
                let began = Instant::now();
                let result = match size {
                    1 => side.publish(&batch[0]).await,
                    _ => side.publish_batch(&batch).await,
                };
                if let Some(tally) = tally {
                    for _ in 0..size {
                        tally.record(began, began.elapsed(), Ok(()));
                    }
                }
                result
            };
            let warm = Instant::now() + plan.warmup;
            while Instant::now() < warm {
                one(None).await?;
            }
            start = Instant::now();
            let cpu = crate::usage::cpu_time();
            while start.elapsed() < plan.duration {
                one(Some(&mut tally)).await?;
            }
            return finish(tally, start, cpu);
        }
        Workload::Consume => {
            start = Instant::now();
            let _consuming = side.consume(seen_tx).await?;
            for _ in 0..plan.messages {
                seen.recv().await.ok_or("the consumer stopped")?;
                tally.record(start, Duration::ZERO, Ok(()));
            }
            // Done once every order is acknowledged.
            let mut check = floor_connection(url).await?;
            while pending(&mut check).await? > 0 {
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
        Workload::Idle => {
            let _consuming = side.consume(seen_tx).await?;
            // The first order also waits for the group to be read.
            side.publish(&orders.next(now_us())).await?;
            seen.recv().await.ok_or("the consumer stopped")?;
            start = Instant::now();
            for _ in 0..plan.messages {
                side.publish(&orders.next(now_us())).await?;
                record(
                    &mut tally,
                    &seen.recv().await.ok_or("the consumer stopped")?,
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        Workload::Busy => {
            let _consuming = side.consume(seen_tx).await?;
            side.publish(&orders.next(now_us())).await?;
            seen.recv().await.ok_or("the consumer stopped")?;
            start = Instant::now();
            // Every millisecond, the orders due by then in one batch.
            let mut tick = tokio::time::interval(Duration::from_millis(1));
            let mut batch = Vec::new();
            let (mut sent, mut received) = (0, 0);
            while start.elapsed() < plan.duration {
                tokio::select! {
                    _ = tick.tick() => {
                        let due = plan.rate as usize * start.elapsed().as_millis() as usize / 1_000;
                        batch.clear();
                        let now = now_us();
                        batch.extend((sent..due).map(|_| orders.next(now)));
                        if !batch.is_empty() {
                            side.publish_batch(&batch).await?;
                        }
                        sent = sent.max(due);
                    }
                    Some(seen) = seen.recv() => {
                        record(&mut tally, &seen);
                        received += 1;
                    }
                }
            }
            while received < sent {
                record(
                    &mut tally,
                    &seen.recv().await.ok_or("the consumer stopped")?,
                );
                received += 1;
            }
        }
        Workload::Lateness => {
            let _consuming = side.consume(seen_tx).await?;
            side.publish(&orders.next(now_us())).await?;
            seen.recv().await.ok_or("the consumer stopped")?;
            start = Instant::now();
            // Due from 200 ms on, so that every order is scheduled before the first is due.
            let first = SystemTime::now() + Duration::from_millis(200);
            for _ in 0..plan.messages {
                let at = first + plan.duration.mul_f64(fastrand::f64());
                let due = at.duration_since(UNIX_EPOCH)?.as_micros() as i64;
                side.schedule(&orders.next(due), at).await?;
            }
            for _ in 0..plan.messages {
                let late = seen.recv().await.ok_or("the consumer stopped")?.after();
                let result = if late < 0 {
                    Err("delivered early".into())
                } else {
                    Ok(())
                };
                tally.record(start, Duration::from_micros(late.max(0) as u64), result);
            }
        }
    }
    finish(tally, start, cpu)
}

fn finish(tally: Tally, start: Instant, cpu: Duration) -> Result<Measured, CallError> {
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = crate::usage::cpu_time().saturating_sub(cpu).as_secs_f64();
    Ok(tally.measured(seconds, cpu_seconds, crate::usage::peak_rss_kib()?))
}

/// Records how long an order took to be seen.
fn record(tally: &mut Tally, seen: &Seen) {
    let micros = seen.after().max(0) as u64;
    tally.record(Instant::now(), Duration::from_micros(micros), Ok(()));
}

/// Microseconds since the Unix epoch: `sent_us`, comparable across processes.
fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The orders of a run, numbered.
#[derive(Default)]
struct Orders(u64);

impl Orders {
    fn next(&mut self, sent_us: i64) -> Order {
        self.0 += 1;
        Order {
            order_id: format!("order-{}", self.0),
            item_id: "item-1".to_owned(),
            quantity: (self.0 % 7 + 1) as i64,
            sent_us,
        }
    }
}

/// appwire's generated publisher of `place_order` and handler of `count_order`.
struct AppwireSide {
    broker: SharedBroker,
    publisher: appwire::messages::Publisher<Order>,
}

impl AppwireSide {
    async fn connect(url: &str) -> Result<Self, appwire::Error> {
        let broker: SharedBroker = Arc::new(RedisBroker::connect(url).await?);
        let publisher = streams::place_order(&broker)?;
        Ok(Self { broker, publisher })
    }
}

/// `count_order`: sends each order on.
struct Count(mpsc::UnboundedSender<Seen>);

impl Handler<Order> for Count {
    type Output = ();

    async fn handle(&self, delivery: &Delivery<Order>) -> Result<Option<()>, HandlerError> {
        let _ = self.0.send(Seen::now(delivery.payload().clone()));
        Ok(None)
    }
}

impl Side for AppwireSide {
    async fn publish(&self, order: &Order) -> Result<(), CallError> {
        self.publisher.publish(order).await?;
        Ok(())
    }

    async fn publish_batch(&self, orders: &[Order]) -> Result<(), CallError> {
        self.publisher.publish_batch(orders).await?;
        Ok(())
    }

    async fn schedule(&self, order: &Order, at: SystemTime) -> Result<(), CallError> {
        self.publisher.publish_at(order, at).await?;
        Ok(())
    }

    async fn consume(&self, seen: mpsc::UnboundedSender<Seen>) -> Result<Consuming, CallError> {
        let runner = streams::count_order(&self.broker, Count(seen))?;
        Ok(Consuming(vec![tokio::spawn(runner.run())]))
    }
}

/// The floor: `XADD` and `XREADGROUP` / `XACK` with the `redis` crate, hopeit's encoding
/// written by hand.
struct FloorSide {
    url: String,
    connection: MultiplexedConnection,
}

impl FloorSide {
    async fn connect(url: &str) -> Result<Self, CallError> {
        Ok(Self {
            url: url.to_owned(),
            connection: floor_connection(url).await?,
        })
    }
}

impl Side for FloorSide {
    async fn publish(&self, order: &Order) -> Result<(), CallError> {
        let _: String = xadd(order)?
            .query_async(&mut self.connection.clone())
            .await?;
        Ok(())
    }

    async fn publish_batch(&self, orders: &[Order]) -> Result<(), CallError> {
        let mut pipe = redis::pipe();
        for order in orders {
            pipe.add_command(xadd(order)?);
        }
        let _: Vec<String> = pipe.query_async(&mut self.connection.clone()).await?;
        Ok(())
    }

    async fn schedule(&self, _: &Order, _: SystemTime) -> Result<(), CallError> {
        Err("the floor has no scheduled delivery".into())
    }

    async fn consume(&self, seen: mpsc::UnboundedSender<Seen>) -> Result<Consuming, CallError> {
        let mut connection = self.connection.clone();
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg(&["CREATE", STREAM, GROUP, "0", "MKSTREAM"])
            .query_async(&mut connection)
            .await;
        if let Err(e) = created
            && e.code() != Some("BUSYGROUP")
        {
            return Err(e.into());
        }
        // Blocking reads on a connection of their own, with no response timeout.
        let mut reader = redis::Client::open(self.url.as_str())?
            .get_multiplexed_async_connection_with_config(
                &AsyncConnectionConfig::new().set_response_timeout(None),
            )
            .await?;
        let task = tokio::spawn(async move {
            if let Err(e) = read_loop(&mut reader, &seen).await {
                eprintln!("the floor's consumer stopped: {e}");
            }
        });
        Ok(Consuming(vec![task]))
    }
}

/// Reads a batch, decodes each order, acknowledges the batch, again.
async fn read_loop(
    connection: &mut MultiplexedConnection,
    seen: &mpsc::UnboundedSender<Seen>,
) -> Result<(), CallError> {
    loop {
        let reply: StreamReadReply = redis::cmd("XREADGROUP")
            .arg(&["GROUP", GROUP, "floor", "COUNT"])
            .arg(BATCH)
            .arg(&["BLOCK", "1000", "STREAMS", STREAM, ">"])
            .query_async(connection)
            .await?;
        for key in reply.keys {
            let mut ack = redis::cmd("XACK");
            ack.arg(STREAM).arg(GROUP);
            for entry in &key.ids {
                let Some(redis::Value::BulkString(payload)) = entry.map.get("payload") else {
                    return Err(format!("entry {} has no payload", entry.id).into());
                };
                let _ = seen.send(Seen::now(decode(payload)?));
                ack.arg(&entry.id);
            }
            let _: u64 = ack.query_async(connection).await?;
        }
    }
}

/// `XADD` of an order, hopeit's fields in hopeit's order.
fn xadd(order: &Order) -> Result<redis::Cmd, CallError> {
    let base64 = STANDARD.encode(serde_json::to_vec(order)?);
    let info = lz4_flex::frame::FrameInfo::new()
        .content_size(Some(base64.len() as u64))
        .block_size(lz4_flex::frame::BlockSize::Max64KB);
    let mut frame = lz4_flex::frame::FrameEncoder::with_frame_info(info, Vec::new());
    frame.write_all(base64.as_bytes())?;
    let payload = frame.finish()?;
    let now = iso_now();
    let mut cmd = redis::cmd("XADD");
    cmd.arg(STREAM)
        .arg("*")
        .arg("id")
        .arg(uuid().as_str())
        .arg("type")
        .arg(TYPE)
        .arg("submit_ts")
        .arg(&now)
        .arg("event_ts")
        .arg("")
        .arg("track.operation_id")
        .arg(uuid().as_str())
        .arg("track.request_id")
        .arg(uuid().as_str())
        .arg("track.request_ts")
        .arg(&now)
        .arg("event.app")
        .arg(APP_KEY)
        .arg("auth_info")
        .arg(UNSECURED)
        .arg("ser")
        .arg("json+base64")
        .arg("comp")
        .arg("lz4")
        .arg("payload")
        .arg(payload)
        .arg("queue")
        .arg("AUTO");
    Ok(cmd)
}

/// An order from an entry's `payload`.
fn decode(payload: &[u8]) -> Result<Order, CallError> {
    let mut base64 = Vec::new();
    lz4_flex::frame::FrameDecoder::new(payload).read_to_end(&mut base64)?;
    Ok(serde_json::from_slice(&STANDARD.decode(base64)?)?)
}

/// A new random UUID.
fn uuid() -> String {
    uuid::Builder::from_random_bytes(fastrand::u128(..).to_le_bytes())
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// Now as Python's `datetime.now(tz=timezone.utc).isoformat()` writes it.
fn iso_now() -> String {
    chrono::DateTime::<chrono::Utc>::from(SystemTime::now())
        .format("%Y-%m-%dT%H:%M:%S%.6f+00:00")
        .to_string()
}

/// A connection for commands that do not block.
pub(crate) async fn floor_connection(url: &str) -> Result<MultiplexedConnection, CallError> {
    Ok(redis::Client::open(url)?
        .get_multiplexed_async_connection()
        .await?)
}

/// Entries of [`STREAM`] that [`GROUP`] read and did not acknowledge.
async fn pending(connection: &mut MultiplexedConnection) -> Result<u64, CallError> {
    let summary: redis::Value = redis::cmd("XPENDING")
        .arg(STREAM)
        .arg(GROUP)
        .query_async(connection)
        .await?;
    match summary {
        redis::Value::Array(fields) => match fields.first() {
            Some(redis::Value::Int(n)) => Ok(*n as u64),
            _ => Err("XPENDING answered without a count".into()),
        },
        other => Err(format!("XPENDING answered {other:?}").into()),
    }
}

/// Writes `messages` orders to [`STREAM`] for a consume run, in pipelined batches.
pub(crate) async fn fill(url: &str, messages: usize) -> Result<(), CallError> {
    let floor = FloorSide::connect(url).await?;
    let mut orders = Orders::default();
    let mut left = messages;
    while left > 0 {
        let batch: Vec<Order> = (0..left.min(1_000))
            .map(|_| orders.next(now_us()))
            .collect();
        floor.publish_batch(&batch).await?;
        left -= batch.len();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use appwire::messages::{Compression, Envelope, Serialization};

    #[test]
    fn the_floor_writes_what_appwire_writes() {
        let order = Orders::default().next(1_796_000_000_000_000);
        let cmd = xadd(&order).expect("a command");
        let args: Vec<Vec<u8>> = cmd
            .args_iter()
            .map(|arg| match arg {
                redis::Arg::Simple(bytes) => bytes.to_vec(),
                _ => panic!("an XADD has only plain arguments"),
            })
            .collect();
        assert_eq!(args[..3], [&b"XADD"[..], STREAM.as_bytes(), b"*"]);
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = args[3..]
            .chunks(2)
            .map(|pair| (pair[0].clone(), pair[1].clone()))
            .collect();
        let names: Vec<String> = pairs
            .iter()
            .map(|(name, _)| String::from_utf8_lossy(name).into_owned())
            .collect();
        let read = Envelope::from_fields(&pairs).expect("an envelope");
        assert_eq!(read.type_name, TYPE);
        assert_eq!(
            (read.serialization, read.compression),
            (Serialization::JsonBase64, Compression::Lz4)
        );
        assert_eq!(read.auth_info["auth_type"], "Unsecured");
        let json = read.payload_json(1 << 20).expect("a payload");
        assert_eq!(
            serde_json::from_slice::<Order>(&json).expect("an order"),
            order
        );
        assert_eq!(decode(&pairs[11].1).expect("decoded"), order);
        // The same fields in the same order as appwire's publisher writes.
        let mut ours = Envelope::new("id", TYPE, read.serialization, read.compression, &json)
            .expect("an envelope");
        ours.track_ids = read.track_ids.clone();
        let ours: Vec<String> = ours
            .to_fields()
            .into_iter()
            .map(|(n, _)| n.into_owned())
            .collect();
        assert_eq!(names, ours);
    }
}
