"""Rename: a plain string payload and result"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

__steps__ = ["rename"]

__api__ = event_api(
    payload=(str, "The new name"),
    query_args=[("item_id", str, "Item id")],
    responses={200: (str, "The item renamed")},
)


def rename(payload: str, context: EventContext, item_id: str) -> str:
    return f"{item_id} is now {payload}"
