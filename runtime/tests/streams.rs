//! The conformance suite of the message brokers: every case runs against the memory broker,
//! a real Redis server and a real 3-primary Redis Cluster, all started on loopback, so that
//! every backend keeps the same semantics. Waits are bounded; counts are exact.

#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use appwire::messages::broker::{Consumer, Outgoing};
use appwire::messages::memory::MemoryBroker;
use appwire::messages::redis::RedisBroker;
use appwire::messages::{
    Compression, Delivery, Envelope, Handler, HandlerError, Publisher, PublisherOptions,
    REASON_DECODE, REASON_MAX_DELIVERIES, Runner, Serialization, SharedBroker, Streams, Subscriber,
    SubscriberOptions, dead_letter_key,
};
use appwire_test_support::redis::{RedisCluster, RedisServer, skip_redis};
use serde::{Deserialize, Serialize};
use tokio::time::timeout;

/// The longest any one expected delivery may take.
const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    order_id: String,
    qty: u32,
}

fn order(i: usize) -> Order {
    Order {
        order_id: format!("order-{i}"),
        qty: i as u32,
    }
}

const TYPE: &str = "shop.model.OrderPlaced";

/// A broker under test, and the servers behind it.
struct Backend {
    broker: SharedBroker,
    _server: Option<RedisServer>,
    _cluster: Option<RedisCluster>,
}

impl Backend {
    fn memory() -> Self {
        Self {
            broker: Arc::new(MemoryBroker::new()),
            _server: None,
            _cluster: None,
        }
    }

    async fn redis() -> Option<Self> {
        if skip_redis() {
            return None;
        }
        let server = RedisServer::start().expect("start redis-server");
        let broker = RedisBroker::connect(&server.url()).await.unwrap();
        Some(Self {
            broker: Arc::new(broker),
            _server: Some(server),
            _cluster: None,
        })
    }

    async fn cluster() -> Option<Self> {
        if skip_redis() {
            return None;
        }
        let cluster = RedisCluster::start(3).expect("start a 3-node redis cluster");
        let broker = RedisBroker::connect_cluster(&cluster.urls()).await.unwrap();
        Some(Self {
            broker: Arc::new(broker),
            _server: None,
            _cluster: Some(cluster),
        })
    }

    fn publisher(&self, stream: &str) -> Publisher<Order> {
        Publisher::new(self.broker.clone(), PublisherOptions::new(stream, TYPE))
    }

    fn options(&self, keys: &[&str], group: &str) -> SubscriberOptions {
        let mut options = SubscriberOptions::new(
            Streams::Keys(keys.iter().map(|k| (*k).to_owned()).collect()),
            group,
        );
        options.consumer = "c1".to_owned();
        options.block = Duration::from_millis(200);
        options.visibility_timeout = Duration::from_millis(400);
        options.type_names = vec![TYPE.to_owned()];
        options
    }

    /// Every entry of `key` so far, read by a fresh group.
    async fn entries(&self, key: &str) -> Vec<appwire::messages::broker::Entry> {
        let group = format!("inspect-{}", fastrand_suffix());
        self.broker
            .ensure_group(key, &group, appwire::messages::GroupStart::Beginning)
            .await
            .unwrap();
        let consumer = Consumer {
            group,
            name: "inspector".to_owned(),
        };
        let mut reader = self.broker.reader(&consumer).await.unwrap();
        let mut all = Vec::new();
        loop {
            let batch = reader
                .read(&[key.to_owned()], 1000, Duration::from_millis(1))
                .await
                .unwrap();
            if batch.is_empty() {
                return all;
            }
            all.extend(batch);
        }
    }

    /// Entries of `key` left unacknowledged by `group`.
    async fn pending(&self, key: &str, group: &str) -> usize {
        let consumer = Consumer {
            group: group.to_owned(),
            name: "auditor".to_owned(),
        };
        self.broker
            .reclaim(key, &consumer, Duration::ZERO, 10_000)
            .await
            .unwrap()
            .len()
    }
}

fn fastrand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

async fn next(subscriber: &mut Subscriber<Order>) -> Delivery<Order> {
    timeout(WAIT, subscriber.next())
        .await
        .expect("a delivery in time")
        .expect("the subscriber goes on")
}

/// Nothing more arrives within `wait`.
async fn quiet(subscriber: &mut Subscriber<Order>, wait: Duration) {
    if let Ok(Some(d)) = timeout(wait, subscriber.next()).await {
        panic!("unexpected delivery {d:?}");
    }
}

fn field<'a>(entry: &'a appwire::messages::broker::Entry, name: &str) -> &'a [u8] {
    entry
        .fields
        .iter()
        .rev()
        .find(|(k, _)| k == name.as_bytes())
        .map(|(_, v)| v.as_slice())
        .unwrap_or_default()
}

// The cases, each written once against the trait.

async fn publishes_and_consumes_in_order(b: Backend) {
    let publisher = b.publisher("orders");
    for i in 0..5 {
        publisher.publish(&order(i)).await.unwrap();
    }
    let batch: Vec<Order> = (5..10).map(order).collect();
    let published = publisher.publish_batch(&batch).await.unwrap();
    assert_eq!(published.len(), 5);
    let mut subscriber = Subscriber::start(b.broker.clone(), b.options(&["orders"], "g"));
    for i in 0..10 {
        let d = next(&mut subscriber).await;
        assert_eq!(*d.payload(), order(i));
        assert_eq!(d.deliveries(), 1);
        assert_eq!(d.queue(), "AUTO");
        assert_eq!(d.type_name(), TYPE);
        d.ack().await.unwrap();
    }
    quiet(&mut subscriber, Duration::from_millis(300)).await;
    subscriber.shutdown().await;
    assert_eq!(b.pending("orders", "g").await, 0);
    // Every field hopeit's reader requires, in hopeit's order.
    let entries = b.entries("orders").await;
    assert_eq!(entries.len(), 10);
    let names: Vec<&[u8]> = entries[0]
        .fields
        .iter()
        .map(|(k, _)| k.as_slice())
        .collect();
    let expected: [&[u8]; 12] = [
        b"id",
        b"type",
        b"submit_ts",
        b"event_ts",
        b"track.operation_id",
        b"track.request_id",
        b"track.request_ts",
        b"auth_info",
        b"ser",
        b"comp",
        b"payload",
        b"queue",
    ];
    assert_eq!(names, expected);
}

async fn queues_are_read_highest_priority_first(b: Backend) {
    let mut options = PublisherOptions::new("prio", TYPE);
    options.queues = vec!["AUTO".into()];
    let low = Publisher::<Order>::new(b.broker.clone(), options.clone());
    options.queues = vec!["high".into()];
    let high = Publisher::<Order>::new(b.broker.clone(), options);
    for i in 0..3 {
        low.publish(&order(i)).await.unwrap();
    }
    for i in 10..13 {
        high.publish(&order(i)).await.unwrap();
    }
    let mut subscriber =
        Subscriber::start(b.broker.clone(), b.options(&["prio.high", "prio"], "g"));
    let mut got = Vec::new();
    for _ in 0..6 {
        let d = next(&mut subscriber).await;
        got.push((d.key().to_owned(), d.payload().qty, d.queue().to_owned()));
        d.ack().await.unwrap();
    }
    assert_eq!(
        got,
        [
            ("prio.high".into(), 10, "high".into()),
            ("prio.high".into(), 11, "high".into()),
            ("prio.high".into(), 12, "high".into()),
            ("prio".into(), 0, "AUTO".into()),
            ("prio".into(), 1, "AUTO".into()),
            ("prio".into(), 2, "AUTO".into()),
        ]
    );
    subscriber.shutdown().await;
}

async fn a_dead_consumers_messages_are_redelivered(b: Backend) {
    let publisher = b.publisher("crash");
    for i in 0..5 {
        publisher.publish(&order(i)).await.unwrap();
    }
    let mut first = Subscriber::start(b.broker.clone(), b.options(&["crash"], "g"));
    for _ in 0..5 {
        // Neither settled nor dropped: as if the process died holding them.
        std::mem::forget(next(&mut first).await);
    }
    drop(first);
    let mut options = b.options(&["crash"], "g");
    options.consumer = "c2".to_owned();
    let mut second = Subscriber::start(b.broker.clone(), options);
    let mut seen = Vec::new();
    for _ in 0..5 {
        let d = next(&mut second).await;
        assert_eq!(d.deliveries(), 2, "{d:?}");
        seen.push(d.payload().qty);
        d.ack().await.unwrap();
    }
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3, 4]);
    quiet(&mut second, Duration::from_millis(600)).await;
    second.shutdown().await;
    assert_eq!(b.pending("crash", "g").await, 0);
}

async fn nak_redelivers_and_the_cap_dead_letters(b: Backend) {
    let publisher = b.publisher("cap");
    publisher.publish(&order(1)).await.unwrap();
    let mut options = b.options(&["cap"], "g");
    options.max_deliveries = 3;
    let mut subscriber = Subscriber::start(b.broker.clone(), options);
    for attempt in 1..=3 {
        let d = next(&mut subscriber).await;
        assert_eq!(d.deliveries(), attempt);
        d.nak(Duration::from_millis(50)).await.unwrap();
    }
    quiet(&mut subscriber, Duration::from_millis(900)).await;
    subscriber.shutdown().await;
    assert_eq!(b.pending("cap", "g").await, 0);
    let dead = b.entries(&dead_letter_key("cap")).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(
        field(&dead[0], "dlq.reason"),
        REASON_MAX_DELIVERIES.as_bytes()
    );
    assert_eq!(field(&dead[0], "dlq.deliveries"), b"4");
    assert_eq!(field(&dead[0], "dlq.group"), b"g");
    assert_eq!(field(&dead[0], "type"), TYPE.as_bytes());
}

async fn term_dead_letters_at_once(b: Backend) {
    b.publisher("term").publish(&order(7)).await.unwrap();
    let mut subscriber = Subscriber::start(b.broker.clone(), b.options(&["term"], "g"));
    next(&mut subscriber)
        .await
        .term("out of stock")
        .await
        .unwrap();
    quiet(&mut subscriber, Duration::from_millis(600)).await;
    subscriber.shutdown().await;
    let dead = b.entries(&dead_letter_key("term")).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(field(&dead[0], "dlq.reason"), b"out of stock");
    assert_eq!(b.pending("term", "g").await, 0);
}

type Fields = Vec<appwire::messages::broker::Field>;

/// Raw entries that hopeit's reader dies on, or that are not an `Order`.
fn poison() -> Vec<(&'static str, Fields)> {
    let good = |ser, comp, json: &[u8]| {
        Envelope::new("p", TYPE, ser, comp, json)
            .unwrap()
            .to_fields()
    };
    let with = |mut fields: Fields, name: &str, value: &[u8]| {
        for (k, v) in &mut fields {
            if k == name {
                *v = value.to_vec();
            }
        }
        fields
    };
    let without = |mut fields: Fields, name: &str| {
        fields.retain(|(k, _)| k != name);
        fields
    };
    let valid = good(
        Serialization::Json,
        Compression::None,
        br#"{"order_id":"x","qty":1}"#,
    );
    let lz4 = good(
        Serialization::JsonBase64,
        Compression::Lz4,
        br#"{"order_id":"x","qty":1}"#,
    );
    let truncated = {
        let payload = &lz4.iter().find(|(k, _)| k == "payload").unwrap().1;
        with(lz4.clone(), "payload", &payload[..payload.len() - 3])
    };
    vec![
        ("missing type", without(valid.clone(), "type")),
        ("missing payload", without(valid.clone(), "payload")),
        ("missing auth_info", without(valid.clone(), "auth_info")),
        ("unknown comp", with(valid.clone(), "comp", b"snappy")),
        ("unknown ser", with(valid.clone(), "ser", b"yaml")),
        ("pickle", with(valid.clone(), "ser", b"pickle:4")),
        (
            "other type",
            with(valid.clone(), "type", b"shop.model.Other"),
        ),
        ("not json", with(valid.clone(), "payload", b"{not json")),
        (
            "wrong schema",
            with(
                valid.clone(),
                "payload",
                br#"{"order_id":"x","qty":"many"}"#,
            ),
        ),
        (
            "bad base64",
            with(lz4.clone(), "payload", b"\x04\x22\x4d\x18garbage"),
        ),
        ("truncated lz4", truncated),
        ("not utf-8 field", with(valid.clone(), "type", b"\xff\xfe")),
        ("bad auth_info", with(valid, "auth_info", b"!!!")),
    ]
}

async fn poison_messages_are_dead_lettered_and_the_subscriber_goes_on(b: Backend) {
    let poison = poison();
    let batch: Vec<Outgoing> = poison
        .iter()
        .map(|(_, fields)| Outgoing {
            key: "poison".into(),
            fields: fields.clone(),
            max_len: 0,
            dedup: None,
        })
        .collect();
    b.broker.publish(&batch).await.unwrap();
    b.publisher("poison").publish(&order(42)).await.unwrap();
    let mut subscriber = Subscriber::start(b.broker.clone(), b.options(&["poison"], "g"));
    let d = next(&mut subscriber).await;
    assert_eq!(d.payload().qty, 42);
    d.ack().await.unwrap();
    quiet(&mut subscriber, Duration::from_millis(600)).await;
    subscriber.shutdown().await;
    let dead = b.entries(&dead_letter_key("poison")).await;
    assert_eq!(
        dead.len(),
        poison.len(),
        "one dead letter per poison message"
    );
    for entry in &dead {
        assert_eq!(field(entry, "dlq.reason"), REASON_DECODE.as_bytes());
        assert!(!field(entry, "dlq.error").is_empty());
    }
    assert_eq!(b.pending("poison", "g").await, 0);
}

async fn a_duplicate_publish_is_written_once(b: Backend) {
    let publisher = b.publisher("dedup");
    let first = publisher.publish(&order(1)).id("order-1").await.unwrap();
    let second = publisher.publish(&order(1)).id("order-1").await.unwrap();
    let other = publisher.publish(&order(2)).id("order-2").await.unwrap();
    assert!(!first.is_duplicate());
    assert!(second.is_duplicate());
    assert_eq!(first.id(), second.id());
    assert!(!other.is_duplicate());
    let entries = b.entries("dedup").await;
    assert_eq!(entries.len(), 2);
    assert_eq!(field(&entries[0], "id"), b"order-1");
}

async fn scheduled_messages_arrive_when_due_after_a_publisher_restart(b: Backend) {
    let publisher = b.publisher("later");
    publisher
        .publish_after(&order(1), Duration::from_millis(400))
        .await
        .unwrap();
    publisher
        .publish_after(&order(2), Duration::from_millis(200))
        .await
        .unwrap();
    // The publisher is gone before anything is due: the schedule lives in the broker.
    drop(publisher);
    let mut subscriber = Subscriber::start(b.broker.clone(), b.options(&["later"], "g"));
    let start = tokio::time::Instant::now();
    quiet(&mut subscriber, Duration::from_millis(100)).await;
    let first = next(&mut subscriber).await;
    assert_eq!(first.payload().qty, 2);
    assert!(start.elapsed() >= Duration::from_millis(100));
    first.ack().await.unwrap();
    let second = next(&mut subscriber).await;
    assert_eq!(second.payload().qty, 1);
    second.ack().await.unwrap();
    quiet(&mut subscriber, Duration::from_millis(300)).await;
    subscriber.shutdown().await;
    assert_eq!(b.entries("later").await.len(), 2);
}

async fn scheduled_messages_are_never_delivered_early(b: Backend) {
    use std::time::{SystemTime, UNIX_EPOCH};
    // Due 0.9 ms into a millisecond: a schedule kept in milliseconds must not round it down.
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let due = UNIX_EPOCH + Duration::from_micros((ms + 300) * 1_000 + 900);
    let publisher = b.publisher("punctual");
    publisher.publish_at(&order(1), due).await.unwrap();
    // No mover: the broker is asked again and again, in every part of the millisecond.
    drop(publisher);
    let deadline = tokio::time::Instant::now() + WAIT;
    // Until nothing is left scheduled.
    while b.broker.deliver_due("punctual").await.unwrap().is_some() {
        assert!(tokio::time::Instant::now() < deadline, "never delivered");
    }
    let seen = SystemTime::now();
    assert!(
        seen >= due,
        "delivered {:?} early",
        due.duration_since(seen)
    );
    assert_eq!(b.entries("punctual").await.len(), 1);
}

async fn pattern_subscriptions_see_new_streams(b: Backend) {
    b.publisher("glob.a").publish(&order(1)).await.unwrap();
    b.publisher("other.c").publish(&order(3)).await.unwrap();
    let mut options = b.options(&[], "g");
    options.streams = Streams::Pattern("glob.*".into());
    options.discovery_interval = Duration::from_millis(100);
    let mut subscriber = Subscriber::start(b.broker.clone(), options);
    let d = next(&mut subscriber).await;
    assert_eq!((d.key(), d.payload().qty), ("glob.a", 1));
    d.ack().await.unwrap();
    // A stream that first appears after the subscription started.
    b.publisher("glob.b").publish(&order(2)).await.unwrap();
    let d = next(&mut subscriber).await;
    assert_eq!((d.key(), d.payload().qty), ("glob.b", 2));
    d.ack().await.unwrap();
    quiet(&mut subscriber, Duration::from_millis(400)).await;
    subscriber.shutdown().await;
}

async fn in_progress_keeps_a_message_from_other_consumers(b: Backend) {
    b.publisher("slow").publish(&order(1)).await.unwrap();
    let mut first = Subscriber::start(b.broker.clone(), b.options(&["slow"], "g"));
    let held = next(&mut first).await;
    let mut options = b.options(&["slow"], "g");
    options.consumer = "c2".to_owned();
    let mut second = Subscriber::start(b.broker.clone(), options);
    for _ in 0..6 {
        held.in_progress().await.unwrap();
        quiet(&mut second, Duration::from_millis(150)).await;
    }
    held.ack().await.unwrap();
    quiet(&mut second, Duration::from_millis(600)).await;
    first.shutdown().await;
    second.shutdown().await;
}

async fn a_dropped_delivery_is_redelivered_at_once(b: Backend) {
    b.publisher("drop").publish(&order(1)).await.unwrap();
    let mut options = b.options(&["drop"], "g");
    options.visibility_timeout = Duration::from_secs(30);
    let mut subscriber = Subscriber::start(b.broker.clone(), options);
    drop(next(&mut subscriber).await);
    let again = next(&mut subscriber).await;
    assert_eq!(again.deliveries(), 2);
    again.ack().await.unwrap();
    subscriber.shutdown().await;
}

/// Handles orders: fails the first delivery of odd ones, panics on the first of qty 4,
/// sleeps past the timeout on the first of qty 6, rejects qty 8; publishes the rest.
struct Flaky {
    calls: Arc<AtomicUsize>,
}

impl Handler<Order> for Flaky {
    type Output = Order;

    async fn handle(&self, delivery: &Delivery<Order>) -> Result<Option<Order>, HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let (qty, first) = (delivery.payload().qty, delivery.deliveries() == 1);
        match qty {
            8 => Err(HandlerError::reject("qty 8 is refused")),
            4 if first => panic!("the handler panics"),
            6 if first => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok(None)
            }
            q if q % 2 == 1 && first => Err(HandlerError::retry_after(
                "try again",
                Duration::from_millis(20),
            )),
            _ => Ok(Some(Order {
                order_id: format!("relayed-{qty}"),
                qty,
            })),
        }
    }
}

async fn the_runner_handles_publishes_then_acks(b: Backend) {
    let publisher = b.publisher("in");
    for i in 0..10 {
        publisher.publish(&order(i)).await.unwrap();
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let subscriber = Subscriber::start(b.broker.clone(), b.options(&["in"], "g"));
    let runner = Runner::new(
        subscriber,
        Flaky {
            calls: calls.clone(),
        },
    )
    .publish_to(b.publisher("out"))
    .timeout(Duration::from_millis(300));
    let task = tokio::spawn(runner.run());
    // 9 results: every order but the rejected 8.
    let deadline = tokio::time::Instant::now() + WAIT;
    while b.entries("out").await.len() < 9 {
        assert!(tokio::time::Instant::now() < deadline, "results in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    task.abort();
    let out = b.entries("out").await;
    let mut relayed: Vec<String> = out
        .iter()
        .map(|e| {
            let envelope = Envelope::from_fields(&e.fields).unwrap();
            String::from_utf8(envelope.payload_json(1 << 20).unwrap()).unwrap()
        })
        .collect();
    relayed.sort();
    assert_eq!(relayed.len(), 9, "each result published once: {relayed:?}");
    // 10 first deliveries, and again for 1, 3, 5, 7, 9 (retry), 4 (panic), 6 (timeout).
    assert_eq!(calls.load(Ordering::SeqCst), 17);
    let dead = b.entries(&dead_letter_key("in")).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(field(&dead[0], "dlq.reason"), b"qty 8 is refused");
    // A relayed message carries the consumed one's track ids and the stream's.
    let first = Envelope::from_fields(&out[0].fields).unwrap();
    assert_eq!(first.track_id("stream.name"), "in");
    assert_eq!(first.track_id("stream.consumer_group"), "g");
    assert_eq!(b.pending("in", "g").await, 0);
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::Backend::memory()).await;
                }
            )*
        }
        mod redis {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(backend) = super::Backend::redis().await {
                        super::$case(backend).await;
                    }
                }
            )*
        }
        mod cluster {
            $(
                #[tokio::test]
                async fn $case() {
                    if let Some(backend) = super::Backend::cluster().await {
                        super::$case(backend).await;
                    }
                }
            )*
        }
    };
}

conformance!(
    publishes_and_consumes_in_order,
    queues_are_read_highest_priority_first,
    a_dead_consumers_messages_are_redelivered,
    nak_redelivers_and_the_cap_dead_letters,
    term_dead_letters_at_once,
    poison_messages_are_dead_lettered_and_the_subscriber_goes_on,
    a_duplicate_publish_is_written_once,
    scheduled_messages_arrive_when_due_after_a_publisher_restart,
    scheduled_messages_are_never_delivered_early,
    pattern_subscriptions_see_new_streams,
    in_progress_keeps_a_message_from_other_consumers,
    a_dropped_delivery_is_redelivered_at_once,
    the_runner_handles_publishes_then_acks,
);

/// Acks made together go together: 300 deliveries settled at once take a few `XACK`s, not
/// one each, and every one of them is acknowledged.
#[tokio::test]
async fn acks_made_together_go_in_few_commands() {
    let Some(b) = Backend::redis().await else {
        return;
    };
    let server = b._server.as_ref().expect("a server");
    let xacks = || {
        let stats = server
            .command(&["INFO", "commandstats"])
            .unwrap()
            .text()
            .unwrap();
        stats
            .lines()
            .find_map(|l| l.strip_prefix("cmdstat_xack:calls="))
            .and_then(|l| l.split(',').next())
            .map_or(0, |n| n.parse::<u64>().unwrap())
    };
    let publisher = b.publisher("many");
    let orders: Vec<Order> = (0..300).map(order).collect();
    publisher.publish_batch(&orders).await.unwrap();
    let mut options = b.options(&["many"], "g");
    options.concurrency = 300;
    options.batch_size = 300;
    let mut subscriber = Subscriber::start(b.broker.clone(), options);
    let mut deliveries = Vec::new();
    for _ in 0..orders.len() {
        deliveries.push(next(&mut subscriber).await);
    }
    let before = xacks();
    let acks: Vec<_> = deliveries
        .into_iter()
        .map(|d| tokio::spawn(d.ack()))
        .collect();
    for ack in acks {
        ack.await.unwrap().unwrap();
    }
    let sent = xacks() - before;
    assert!((1..=10).contains(&sent), "{sent} XACKs for 300 acks");
    assert_eq!(b.pending("many", "g").await, 0);
    subscriber.shutdown().await;
}
