"""Place order: publishes the order to appwire.from_hopeit and appwire.from_hopeit.high"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

from shop.model import OrderPlaced

__steps__ = ["place"]

__api__ = event_api(
    payload=(OrderPlaced, "The order to publish"),
    responses={200: (OrderPlaced, "The order published")},
)


def place(payload: OrderPlaced, context: EventContext) -> OrderPlaced:
    return payload
