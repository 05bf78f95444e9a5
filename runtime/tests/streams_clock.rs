//! The time-dependent behaviour of streams on tokio's paused clock, with the memory broker:
//! schedules, naks, visibility timeouts, the delivery cap and the runner's timeout, backoff
//! and throttle. Each case asserts when things happen in virtual time, to the millisecond where
//! the design promises it, and takes a few milliseconds of real time.

#![cfg(feature = "streams")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use appwire::messages::broker::Fields;
use appwire::messages::memory::MemoryBroker;
use appwire::messages::{
    Broker, Delivery, Handler, HandlerError, Publisher, PublisherOptions, REASON_MAX_DELIVERIES,
    Runner, Streams, Subscriber, SubscriberOptions, dead_letter_key,
};
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, sleep, timeout};

const TYPE: &str = "shop.model.OrderPlaced";
const KEY: &str = "orders";
const GROUP: &str = "g";
const VISIBILITY: Duration = Duration::from_secs(20);
/// How late a timed event may be: tokio's timers round up to the millisecond.
const SLACK: Duration = Duration::from_millis(2);
/// The most real time one case may take; its virtual waits add up to minutes.
const REAL_LIMIT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    order_id: String,
    qty: u32,
}

fn order(i: u32) -> Order {
    Order {
        order_id: format!("order-{i}"),
        qty: i,
    }
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// A memory broker, a publisher on it, and the clocks a case is measured by.
struct Case {
    broker: MemoryBroker,
    publisher: Publisher<Order>,
    start: Instant,
    real: std::time::Instant,
}

impl Case {
    fn new() -> Self {
        let broker = MemoryBroker::new();
        let publisher = Publisher::new(Arc::new(broker.clone()), PublisherOptions::new(KEY, TYPE));
        Self {
            broker,
            publisher,
            start: Instant::now(),
            real: std::time::Instant::now(),
        }
    }

    /// Options of consumer `name`: reads of 1 s, a 20 s visibility timeout.
    fn options(&self, name: &str) -> SubscriberOptions {
        let mut options = SubscriberOptions::new(Streams::Keys(vec![KEY.to_owned()]), GROUP);
        options.consumer = name.to_owned();
        options.type_names = vec![TYPE.to_owned()];
        options.block = secs(1);
        options.visibility_timeout = VISIBILITY;
        options
    }

    fn subscriber(&self, options: SubscriberOptions) -> Subscriber<Order> {
        Subscriber::start(Arc::new(self.broker.clone()), options)
    }

    /// Virtual time since the case began.
    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Asserts that the virtual time is `at`, or at most [`SLACK`] later.
    fn assert_at(&self, at: Duration, what: &str) {
        let now = self.elapsed();
        assert!(
            now >= at && now <= at + SLACK,
            "{what}: at {now:?}, expected {at:?}"
        );
    }

    fn dead_letters(&self) -> Vec<(String, Fields)> {
        self.broker.entries(&dead_letter_key(KEY))
    }

    /// Asserts that the case took little real time, however long it took in virtual time.
    fn finish(self) {
        let real = self.real.elapsed();
        assert!(real < REAL_LIMIT, "took {real:?} of real time");
    }
}

async fn next(subscriber: &mut Subscriber<Order>, within: Duration) -> Delivery<Order> {
    timeout(within, subscriber.next())
        .await
        .expect("a delivery in time")
        .expect("the subscriber goes on")
}

/// Nothing is delivered within `wait`.
async fn quiet(subscriber: &mut Subscriber<Order>, wait: Duration) {
    if let Ok(delivery) = timeout(wait, subscriber.next()).await {
        panic!("unexpected delivery {delivery:?}");
    }
}

fn field<'a>(fields: &'a [(Vec<u8>, Vec<u8>)], name: &str) -> &'a [u8] {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == name.as_bytes())
        .map(|(_, v)| v.as_slice())
        .unwrap_or_default()
}

/// `publish_after(60 s)`, then `publish_at(now + 30 s)`, published `after` into the case:
/// neither is in the stream or delivered before it is due, and each arrives on time, the
/// second first.
async fn schedules_are_delivered_when_due(after: Duration) {
    let case = Case::new();
    let mut subscriber = case.subscriber(case.options("c1"));
    // The system's clock does not move meanwhile; the broker's does.
    sleep(after).await;
    case.publisher
        .publish_after(&order(1), secs(60))
        .await
        .unwrap();
    case.publisher
        .publish_at(&order(2), case.broker.now() + secs(30))
        .await
        .unwrap();
    quiet(&mut subscriber, ms(29_990)).await;
    let first = next(&mut subscriber, secs(1)).await;
    case.assert_at(after + secs(30), "publish_at(now + 30 s)");
    assert_eq!(first.payload().qty, 2);
    first.ack().await.unwrap();
    quiet(&mut subscriber, ms(29_900)).await;
    assert_eq!(
        case.broker.entries(KEY).len(),
        1,
        "not in the stream before due"
    );
    let second = next(&mut subscriber, secs(1)).await;
    case.assert_at(after + secs(60), "publish_after(60 s)");
    assert_eq!((second.payload().qty, second.deliveries()), (1, 1));
    second.ack().await.unwrap();
    quiet(&mut subscriber, secs(120)).await;
    assert_eq!(case.broker.entries(KEY).len(), 2);
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    subscriber.shutdown().await;
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn publish_after_delivers_at_its_due_time() {
    schedules_are_delivered_when_due(Duration::ZERO).await;
}

#[tokio::test(start_paused = true)]
async fn schedules_count_from_the_brokers_clock_after_a_wait() {
    schedules_are_delivered_when_due(secs(100)).await;
}

#[tokio::test(start_paused = true)]
async fn a_schedule_is_moved_into_its_stream_by_its_publisher() {
    let case = Case::new();
    case.publisher
        .publish_after(&order(1), secs(60))
        .await
        .unwrap();
    sleep(ms(59_990)).await;
    assert!(case.broker.entries(KEY).is_empty(), "moved before due");
    sleep(ms(10) + SLACK).await;
    assert_eq!(case.broker.entries(KEY).len(), 1, "moved when due");
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn entry_ids_are_on_the_brokers_clock() {
    let case = Case::new();
    let first = case.publisher.publish(&order(1)).await.unwrap();
    sleep(ms(90_250)).await;
    let second = case.publisher.publish(&order(2)).await.unwrap();
    let millis = |id: &str| -> u64 { id.split_once('-').unwrap().0.parse().unwrap() };
    assert_eq!(millis(second.id()) - millis(first.id()), 90_250);
    let since_epoch = case
        .broker
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    assert_eq!(millis(second.id()), since_epoch.as_millis() as u64);
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn publish_at_in_the_past_delivers_at_once() {
    let case = Case::new();
    let mut subscriber = case.subscriber(case.options("c1"));
    case.publisher
        .publish_at(&order(1), SystemTime::now() - secs(3600))
        .await
        .unwrap();
    let delivery = next(&mut subscriber, secs(1)).await;
    case.assert_at(Duration::ZERO, "publish_at(an hour ago)");
    assert_eq!(delivery.payload().qty, 1);
    delivery.ack().await.unwrap();
    subscriber.shutdown().await;
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn nak_redelivers_after_its_delay() {
    let case = Case::new();
    let mut subscriber = case.subscriber(case.options("c1"));
    case.publisher.publish(&order(1)).await.unwrap();
    let first = next(&mut subscriber, secs(1)).await;
    assert_eq!(first.deliveries(), 1);
    first.nak(secs(10)).await.unwrap();
    quiet(&mut subscriber, ms(9_990)).await;
    let second = next(&mut subscriber, secs(1)).await;
    case.assert_at(secs(10), "nak(10 s)");
    assert_eq!(second.deliveries(), 2);
    // Shorter than a read's block: the read under way does not hold it back.
    second.nak(ms(100)).await.unwrap();
    let third = next(&mut subscriber, secs(1)).await;
    case.assert_at(secs(10) + ms(100), "nak(100 ms)");
    assert_eq!(third.deliveries(), 3);
    // Longer than the visibility timeout: the visibility timeout.
    third.nak(secs(3600)).await.unwrap();
    let fourth = next(&mut subscriber, secs(30)).await;
    case.assert_at(secs(10) + ms(100) + VISIBILITY, "nak(1 h)");
    assert_eq!(fourth.deliveries(), 4);
    fourth.ack().await.unwrap();
    quiet(&mut subscriber, secs(120)).await;
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    subscriber.shutdown().await;
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn naks_of_different_delays_each_redeliver_on_time() {
    let case = Case::new();
    let mut options = case.options("c1");
    options.visibility_timeout = secs(60);
    let mut subscriber = case.subscriber(options);
    for i in 1..=3 {
        case.publisher.publish(&order(i)).await.unwrap();
    }
    for delay in [secs(30), secs(5), secs(12)] {
        next(&mut subscriber, secs(1))
            .await
            .nak(delay)
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        let delivery = next(&mut subscriber, secs(60)).await;
        seen.push((delivery.payload().qty, case.elapsed()));
        delivery.ack().await.unwrap();
    }
    for ((qty, at), (want_qty, want_at)) in seen.iter().zip([(2, 5), (3, 12), (1, 30)]) {
        assert_eq!(*qty, want_qty, "{seen:?}");
        assert!(
            *at >= secs(want_at) && *at <= secs(want_at) + SLACK,
            "{seen:?}"
        );
    }
    subscriber.shutdown().await;
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn a_dropped_delivery_is_redelivered_at_once() {
    let case = Case::new();
    let mut subscriber = case.subscriber(case.options("c1"));
    case.publisher.publish(&order(1)).await.unwrap();
    sleep(secs(7)).await;
    drop(next(&mut subscriber, secs(1)).await);
    let again = next(&mut subscriber, secs(1)).await;
    case.assert_at(secs(7), "redelivery of a dropped delivery");
    assert_eq!(again.deliveries(), 2);
    again.ack().await.unwrap();
    subscriber.shutdown().await;
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn an_unsettled_delivery_is_reclaimed_after_the_visibility_timeout() {
    let case = Case::new();
    // One in flight at most: the first consumer, busy with the held delivery, cannot take
    // it back itself, so the second one does.
    let mut options = case.options("c1");
    options.concurrency = 1;
    let mut first = case.subscriber(options);
    let mut second = case.subscriber(case.options("c2"));
    case.publisher.publish(&order(1)).await.unwrap();
    let held = next(&mut first, secs(1)).await;
    case.assert_at(Duration::ZERO, "first delivery");
    quiet(&mut second, ms(19_990)).await;
    let reclaimed = next(&mut second, secs(6)).await;
    // A subscriber looks for idle entries every quarter of the visibility timeout.
    let at = case.elapsed();
    assert!(
        at >= VISIBILITY && at <= VISIBILITY + VISIBILITY / 4 + SLACK,
        "reclaimed at {at:?}"
    );
    assert_eq!(reclaimed.deliveries(), 2);
    assert_eq!(reclaimed.entry_id(), held.entry_id());
    let pending = case.broker.pending(KEY, GROUP);
    assert_eq!(pending.len(), 1);
    assert_eq!((pending[0].1.as_str(), pending[0].2), ("c2", 2));
    reclaimed.ack().await.unwrap();
    // Settling what another consumer took over changes nothing.
    drop(held);
    quiet(&mut first, secs(120)).await;
    quiet(&mut second, secs(1)).await;
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    first.shutdown().await;
    second.shutdown().await;
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn in_progress_extends_the_visibility_timeout() {
    let case = Case::new();
    let mut options = case.options("c1");
    options.concurrency = 1;
    let mut first = case.subscriber(options);
    let mut second = case.subscriber(case.options("c2"));
    case.publisher.publish(&order(1)).await.unwrap();
    let held = next(&mut first, secs(1)).await;
    // Four times the visibility timeout, still in progress.
    for _ in 0..5 {
        quiet(&mut second, secs(16)).await;
        held.in_progress().await.unwrap();
    }
    let last = case.elapsed();
    quiet(&mut second, VISIBILITY - ms(10)).await;
    let reclaimed = next(&mut second, secs(6)).await;
    let idle = case.elapsed() - last;
    assert!(
        idle >= VISIBILITY && idle <= VISIBILITY + VISIBILITY / 4 + SLACK,
        "reclaimed {idle:?} after the last in_progress"
    );
    assert_eq!(reclaimed.deliveries(), 2);
    reclaimed.ack().await.unwrap();
    drop(held);
    first.shutdown().await;
    second.shutdown().await;
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn the_delivery_cap_dead_letters() {
    let case = Case::new();
    let mut options = case.options("c1");
    options.max_deliveries = 3;
    let mut subscriber = case.subscriber(options);
    case.publisher.publish(&order(1)).await.unwrap();
    for attempt in 1..=3 {
        let delivery = next(&mut subscriber, secs(2)).await;
        case.assert_at(secs(attempt - 1), "a delivery under the cap");
        assert_eq!(delivery.deliveries(), attempt);
        delivery.nak(secs(1)).await.unwrap();
    }
    sleep(ms(990)).await;
    assert!(case.dead_letters().is_empty(), "dead-lettered early");
    quiet(&mut subscriber, ms(10) + SLACK).await;
    let dead = case.dead_letters();
    assert_eq!(
        dead.len(),
        1,
        "dead-lettered when the fourth delivery was due"
    );
    let fields = &dead[0].1;
    assert_eq!(
        field(fields, "dlq.reason"),
        REASON_MAX_DELIVERIES.as_bytes()
    );
    assert_eq!(field(fields, "dlq.deliveries"), b"4");
    assert_eq!(field(fields, "dlq.error"), b"delivered 3 times");
    assert_eq!(field(fields, "dlq.group"), GROUP.as_bytes());
    quiet(&mut subscriber, secs(120)).await;
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    assert_eq!(case.dead_letters().len(), 1);
    subscriber.shutdown().await;
    case.finish();
}

/// Consumes one message with options changed by `change`: it neither panics nor spins (on
/// the paused clock, a loop that never waits would stop time, and the case with it).
async fn consumes_one_with(change: fn(&mut SubscriberOptions)) {
    let case = Case::new();
    case.publisher.publish(&order(1)).await.unwrap();
    let mut options = case.options("c1");
    change(&mut options);
    let mut subscriber = case.subscriber(options);
    let delivery = next(&mut subscriber, secs(1)).await;
    assert_eq!(delivery.payload().qty, 1);
    delivery.ack().await.unwrap();
    // Reads of 1 ms are a thousand worker turns a second: a short wait.
    quiet(&mut subscriber, secs(1)).await;
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    subscriber.shutdown().await;
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn a_zero_block_is_taken_as_the_least() {
    consumes_one_with(|o| o.block = Duration::ZERO).await;
}

#[tokio::test(start_paused = true)]
async fn a_zero_batch_size_is_taken_as_one() {
    consumes_one_with(|o| o.batch_size = 0).await;
}

/// When each delivery reached the handler: (deliveries, virtual time since `start`).
type Calls = Arc<Mutex<Vec<(u64, Duration)>>>;

/// A handler whose `n`th call waits `waits[n]` and then answers `answers[n]` (the last of
/// each from then on).
struct Scripted {
    start: Instant,
    calls: Calls,
    waits: Vec<Duration>,
    answers: Vec<Result<(), HandlerError>>,
}

impl Scripted {
    fn new(
        start: Instant,
        waits: Vec<Duration>,
        answers: Vec<Result<(), HandlerError>>,
    ) -> (Self, Calls) {
        let calls = Calls::default();
        let handler = Self {
            start,
            calls: calls.clone(),
            waits,
            answers,
        };
        (handler, calls)
    }
}

impl Handler<Order> for Scripted {
    type Output = Order;

    async fn handle(&self, delivery: &Delivery<Order>) -> Result<Option<Order>, HandlerError> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((delivery.deliveries(), self.start.elapsed()));
            calls.len() - 1
        };
        let pick = |n: usize, len: usize| n.min(len.saturating_sub(1));
        let wait = self.waits[pick(n, self.waits.len())];
        sleep(wait).await;
        self.answers[pick(n, self.answers.len())]
            .clone()
            .map(|()| None)
    }
}

fn calls(calls: &Calls) -> Vec<(u64, Duration)> {
    calls.lock().unwrap().clone()
}

/// Asserts that the calls came with these delivery counts at these times (to [`SLACK`]).
fn assert_calls(calls: &[(u64, Duration)], expected: &[(u64, Duration)]) {
    assert_eq!(calls.len(), expected.len(), "{calls:?}");
    for ((deliveries, at), (want_deliveries, want_at)) in calls.iter().zip(expected) {
        assert_eq!(deliveries, want_deliveries, "{calls:?}");
        assert!(
            at >= want_at && *at <= *want_at + SLACK,
            "{calls:?}, expected {expected:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_runner_redelivers_after_a_handler_timeout() {
    let case = Case::new();
    let (handler, made) = Scripted::new(case.start, vec![secs(100), secs(4)], vec![Ok(())]);
    let subscriber = case.subscriber(case.options("c1"));
    let runner = Runner::new(subscriber, handler).timeout(secs(5));
    let task = tokio::spawn(runner.run());
    case.publisher.publish(&order(1)).await.unwrap();
    sleep(secs(60)).await;
    // Cut off at 5 s, delivered again after the first backoff (100 ms); the second call,
    // within its timeout, is acknowledged.
    assert_calls(&calls(&made), &[(1, Duration::ZERO), (2, ms(5_100))]);
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    assert!(case.dead_letters().is_empty());
    task.abort();
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn the_runner_retries_with_backoff_then_dead_letters() {
    let case = Case::new();
    let (handler, made) = Scripted::new(
        case.start,
        vec![Duration::ZERO],
        vec![Err(HandlerError::retry("not yet"))],
    );
    let mut options = case.options("c1");
    options.max_deliveries = 5;
    let runner = Runner::new(case.subscriber(options), handler);
    let task = tokio::spawn(runner.run());
    case.publisher.publish(&order(1)).await.unwrap();
    sleep(secs(60)).await;
    // 100 ms, doubled per delivery.
    assert_calls(
        &calls(&made),
        &[
            (1, Duration::ZERO),
            (2, ms(100)),
            (3, ms(300)),
            (4, ms(700)),
            (5, ms(1_500)),
        ],
    );
    // The sixth delivery, due 1.6 s after the fifth, is over the cap.
    let dead = case.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        field(&dead[0].1, "dlq.reason"),
        REASON_MAX_DELIVERIES.as_bytes()
    );
    assert_eq!(field(&dead[0].1, "dlq.deliveries"), b"6");
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    task.abort();
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn the_runner_retries_after_the_handlers_delay() {
    let case = Case::new();
    let (handler, made) = Scripted::new(
        case.start,
        vec![Duration::ZERO],
        vec![
            Err(HandlerError::retry_after("later", secs(7))),
            Err(HandlerError::retry_after("soon", ms(250))),
            Ok(()),
        ],
    );
    let runner = Runner::new(case.subscriber(case.options("c1")), handler);
    let task = tokio::spawn(runner.run());
    case.publisher.publish(&order(1)).await.unwrap();
    sleep(secs(60)).await;
    assert_calls(
        &calls(&made),
        &[(1, Duration::ZERO), (2, secs(7)), (3, ms(7_250))],
    );
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    task.abort();
    case.finish();
}

#[tokio::test(start_paused = true)]
async fn the_runner_throttles() {
    let case = Case::new();
    let (handler, made) = Scripted::new(case.start, vec![ms(300)], vec![Ok(())]);
    let mut options = case.options("c1");
    options.concurrency = 1;
    let runner = Runner::new(case.subscriber(options), handler).throttle(secs(2));
    let task = tokio::spawn(runner.run());
    for i in 0..3 {
        case.publisher.publish(&order(i)).await.unwrap();
    }
    sleep(secs(60)).await;
    // One at a time, each taking the throttle's 2 s though handled in 300 ms.
    assert_calls(
        &calls(&made),
        &[(1, Duration::ZERO), (1, secs(2)), (1, secs(4))],
    );
    assert!(case.broker.pending(KEY, GROUP).is_empty());
    task.abort();
    case.finish();
}
