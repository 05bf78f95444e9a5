//! The generated streams of the streams fixture on the memory broker: an order published by
//! `place_order`'s publisher is relayed by `relay_orders`' runner and arrives on `shop.shipped`
//! as an `OrderShipped`.

use std::sync::Arc;
use std::time::Duration;

use appwire::messages::memory::MemoryBroker;
use appwire::messages::{
    Delivery, Handler, HandlerError, SharedBroker, Streams, Subscriber, SubscriberOptions,
};
use appwire_tests::snapshots::streams_rs::streams::{
    self, OrderLine, OrderPlaced, OrderShipped, OrderShippedCarrier,
};

/// Ships every order by courier.
struct Ship;

impl Handler<OrderPlaced> for Ship {
    type Output = OrderShipped;

    async fn handle(
        &self,
        delivery: &Delivery<OrderPlaced>,
    ) -> Result<Option<OrderShipped>, HandlerError> {
        Ok(Some(OrderShipped {
            order_id: delivery.payload().order_id.clone(),
            carrier: OrderShippedCarrier::Courier,
        }))
    }
}

#[tokio::test]
async fn a_placed_order_is_relayed_to_shop_shipped() {
    let broker: SharedBroker = Arc::new(MemoryBroker::new());
    let order = OrderPlaced {
        order_id: "o-1".to_owned(),
        items: vec![OrderLine {
            sku: "sku-1".to_owned(),
            quantity: 2,
        }],
        note: None,
    };
    // To the queues AUTO and high: two entries, `shop.orders` and `shop.orders.high`.
    let publisher = streams::place_order(&broker).expect("publisher");
    publisher.publish(&order).await.expect("published");

    let runner = streams::relay_orders(&broker, Ship).expect("runner");
    let task = tokio::spawn(runner.run());

    let mut options = SubscriberOptions::new(Streams::Keys(vec!["shop.shipped".into()]), "test");
    options.type_names = vec!["shop.model.OrderShipped".into()];
    options.block = Duration::from_millis(50);
    let mut shipped = Subscriber::<OrderShipped>::start(broker.clone(), options);
    for _ in 0..2 {
        let delivery = tokio::time::timeout(Duration::from_secs(10), shipped.next())
            .await
            .expect("relayed in time")
            .expect("a delivery");
        assert_eq!(
            delivery.payload(),
            &OrderShipped {
                order_id: "o-1".to_owned(),
                carrier: OrderShippedCarrier::Courier,
            }
        );
        assert_eq!(delivery.type_name(), "shop.model.OrderShipped");
        delivery.ack().await.expect("acked");
    }
    task.abort();
    shipped.shutdown().await;
}
