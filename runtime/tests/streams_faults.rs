//! Faults only a real Redis shows: the server killed and restarted mid-run (AOF on), and a
//! cluster of three primaries running the same cases as one server. Waits are bounded;
//! counts are exact.

#![cfg(feature = "redis")]
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use appwire::messages::redis::RedisBroker;
use appwire::messages::{
    Publisher, PublisherOptions, SharedBroker, Streams, Subscriber, SubscriberOptions,
};
use appwire_test_support::redis::{RedisOptions, RedisServer, skip_redis};
use serde::{Deserialize, Serialize};
use tokio::time::{Instant, sleep, timeout};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    order_id: String,
    qty: u32,
}

const TYPE: &str = "shop.model.OrderPlaced";
const MESSAGES: usize = 200;

/// Publishes with a retry until the broker takes it; the message id makes a retry after an
/// answer lost in the crash a duplicate, not a second message.
async fn publish_until_taken(publisher: &Publisher<Order>, order: &Order) -> usize {
    let mut failures = 0;
    loop {
        match publisher.publish(order).id(&order.order_id).await {
            Ok(_) => return failures,
            Err(error) => {
                assert!(error.is_retryable(), "{error}");
                failures += 1;
                sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

#[tokio::test]
async fn a_redis_restart_mid_run_loses_nothing() {
    if skip_redis() {
        return;
    }
    let mut server = RedisServer::start_with(RedisOptions {
        aof: true,
        ..RedisOptions::default()
    })
    .unwrap();
    let broker: SharedBroker = Arc::new(RedisBroker::connect(&server.url()).await.unwrap());
    let publisher = Publisher::new(broker.clone(), PublisherOptions::new("orders", TYPE));
    let mut options = SubscriberOptions::new(Streams::Keys(vec!["orders".into()]), "g");
    options.block = Duration::from_millis(100);
    options.visibility_timeout = Duration::from_millis(500);
    options.max_deliveries = 1_000;
    let mut subscriber = Subscriber::<Order>::start(broker.clone(), options);

    let (mut acked, mut failed_publishes, mut failed_acks) = (BTreeSet::new(), 0, 0);
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..MESSAGES {
        if i == MESSAGES / 2 {
            // A crash: SIGKILL, then the same port and append-only file again.
            server.kill().unwrap();
            server.restart().unwrap();
        }
        let order = Order {
            order_id: format!("order-{i}"),
            qty: i as u32,
        };
        failed_publishes += publish_until_taken(&publisher, &order).await;
        // Take what has arrived so far, without waiting.
        while let Ok(Some(d)) = timeout(Duration::from_millis(1), subscriber.next()).await {
            let id = d.payload().order_id.clone();
            match d.ack().await {
                Ok(()) => {
                    acked.insert(id);
                }
                Err(_) => failed_acks += 1,
            }
        }
    }
    while acked.len() < MESSAGES {
        assert!(Instant::now() < deadline, "only {} acked", acked.len());
        if let Ok(Some(d)) = timeout(Duration::from_millis(500), subscriber.next()).await {
            let id = d.payload().order_id.clone();
            match d.ack().await {
                Ok(()) => {
                    acked.insert(id);
                }
                Err(_) => failed_acks += 1,
            }
        }
    }
    subscriber.shutdown().await;
    assert_eq!(acked.len(), MESSAGES);
    // Written once each, whatever the retries: the id deduplicated them.
    let entries = server.command(&["XLEN", "orders"]).unwrap();
    assert_eq!(
        entries,
        appwire_test_support::redis::Resp::Integer(MESSAGES as i64)
    );
    let pending = server.command(&["XPENDING", "orders", "g"]).unwrap();
    assert_eq!(
        pending.items().and_then(|i| i.first()).cloned(),
        Some(appwire_test_support::redis::Resp::Integer(0)),
        "nothing left pending"
    );
    eprintln!("publishes retried: {failed_publishes}, acks failed: {failed_acks}");
}
