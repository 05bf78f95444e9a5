"""Item name: a plain string result"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

__steps__ = ["item_name"]

__api__ = event_api(
    query_args=[("item_id", str, "Item id")],
    responses={200: (str, "The item's name")},
)


def item_name(payload: None, context: EventContext, item_id: str) -> str:
    return f"Name of {item_id}"
