"""Inspect: what a request brought to its step, and the instance that answered"""

from typing import Optional

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

from appwire_target.model import Inspection

__steps__ = ["inspect"]

__api__ = event_api(
    query_args=[
        ("item_id", str, "Item id"),
        ("qty", int, "Quantity"),
        ("note", Optional[str], "A free text"),
    ],
    responses={200: (Inspection, "The query args and track ids the step received")},
)


def inspect(payload: None, context: EventContext, **query_args: str) -> Inspection:
    return Inspection(
        query=query_args, track=context.track_ids, instance=context.env["instance"]["id"]
    )
