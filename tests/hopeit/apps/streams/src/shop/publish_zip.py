"""Publish zip: publishes the order to hopeit.out.zip, compressed with zip, serialized as json"""

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
