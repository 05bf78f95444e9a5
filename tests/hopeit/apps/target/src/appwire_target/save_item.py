"""Save item: the item as the server read it"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

from appwire_target.model import Item

__steps__ = ["save"]

__api__ = event_api(
    payload=(Item, "The item to save"),
    responses={200: (Item, "The item saved")},
)


def save(payload: Item, context: EventContext) -> Item:
    return payload
