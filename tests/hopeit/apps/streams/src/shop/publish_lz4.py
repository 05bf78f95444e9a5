"""Publish lz4: publishes the order to hopeit.out.lz4, compressed with lz4, serialized as json+base64"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

from shop.model import OrderPlaced

__steps__ = ["publish"]

__api__ = event_api(
    payload=(OrderPlaced, "The order to publish"),
    responses={200: (OrderPlaced, "The order published")},
)


def publish(payload: OrderPlaced, context: EventContext) -> OrderPlaced:
    return payload
