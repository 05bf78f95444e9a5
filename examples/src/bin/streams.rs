//! Streams: a publisher and a STREAM event's handler generated from a hopeit manifest
//! (`streams/app-config.json`, payload types from `streams/orders.openapi.json`). Orders are
//! placed on `shop.orders` (queues `AUTO` and `high`), relayed by `relay_orders` to
//! `shop.shipped`, and read from there; one order is scheduled for later.
//!
//! Run it with `cargo run -p appwire-examples --bin streams`: on the in-process memory broker,
//! or on Redis with `-- redis://127.0.0.1:6379` (or `APPWIRE_REDIS_URL`).

use std::sync::Arc;
use std::time::Duration;

use appwire::messages::memory::MemoryBroker;
use appwire::messages::redis::RedisBroker;
use appwire::messages::{
    Delivery, Handler, HandlerError, SharedBroker, Streams, Subscriber, SubscriberOptions,
};

/// The streams of `streams/app-config.json`: a publisher per `write_stream`, a handler trait,
/// runner and subscriber per STREAM event.
#[appwire::clients(manifest = "streams/app-config.json")]
mod generated {}

use generated::streams::{self, OrderLine, OrderPlaced, OrderShipped, OrderShippedCarrier};

/// `relay_orders`' handler: big orders go by courier.
struct Ship;

impl Handler<OrderPlaced> for Ship {
    type Output = OrderShipped;

    async fn handle(
        &self,
        delivery: &Delivery<OrderPlaced>,
    ) -> Result<Option<OrderShipped>, HandlerError> {
        let order = delivery.payload();
        let quantity: i64 = order.items.iter().map(|l| l.quantity).sum();
        Ok(Some(OrderShipped {
            order_id: order.order_id.clone(),
            carrier: if quantity > 2 {
                OrderShippedCarrier::Courier
            } else {
                OrderShippedCarrier::Post
            },
        }))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("APPWIRE_REDIS_URL").ok());
    let broker: SharedBroker = match &url {
        Some(url) => Arc::new(RedisBroker::connect(url).await?),
        None => Arc::new(MemoryBroker::new()),
    };
    println!("broker: {}", url.as_deref().unwrap_or("memory"));

    let runner = tokio::spawn(streams::relay_orders(&broker, Ship)?.run());
    let mut options = SubscriberOptions::new(Streams::Keys(vec!["shop.shipped".into()]), "example");
    options.type_names = vec!["shop.model.OrderShipped".into()];
    let mut shipped = Subscriber::<OrderShipped>::start(broker.clone(), options);

    let orders = streams::place_order(&broker)?;
    for (id, quantity) in [("o-1", 1), ("o-2", 3)] {
        let order = OrderPlaced {
            order_id: id.to_owned(),
            items: vec![OrderLine {
                sku: "lamp".to_owned(),
                quantity,
            }],
            note: None,
        };
        let published = orders.publish(&order).id(id).await?;
        println!("placed {id} as {:?}", published.entries);
    }
    let later = OrderPlaced {
        order_id: "o-3".to_owned(),
        items: Vec::new(),
        note: Some("scheduled".to_owned()),
    };
    orders
        .publish_after(&later, Duration::from_millis(300))
        .await?;
    println!("scheduled o-3 for 300 ms from now");

    // Two queues per order: six shipments for three orders.
    for _ in 0..6 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), shipped.next())
            .await?
            .ok_or("the subscriber stopped")?;
        println!(
            "shipped {} by {:?} (from queue key {})",
            delivery.payload().order_id,
            delivery.payload().carrier,
            delivery
                .track_ids()
                .iter()
                .find(|(k, _)| k == "stream.name")
                .map_or("?", |(_, v)| v.as_str()),
        );
        delivery.ack().await?;
    }
    runner.abort();
    shipped.shutdown().await;
    Ok(())
}
