"""place_order: an order posted is published to bench.orders."""

from hopeit.app.context import EventContext

from bench_streams.model import Order

__steps__ = ["place"]


def place(payload: Order, context: EventContext) -> Order:
    return payload
