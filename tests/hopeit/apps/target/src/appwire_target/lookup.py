"""Lookup: an item, or the status that says why not"""

from typing import List, Union

from hopeit.app.api import event_api
from hopeit.app.context import EventContext, PostprocessHook

from appwire_target.model import Busy, Item, NotFound, Refusal

__steps__ = ["lookup"]

__api__ = event_api(
    query_args=[("item_id", str, "Item id")],
    responses={
        200: (Item, "The item"),
        404: (NotFound, "No such item"),
        409: (List[Item], "Items sharing the id"),
        503: (Busy, "The catalog is being rebuilt"),
    },
)

Answer = Union[Item, List[Item], NotFound, Busy, Refusal]

# Refusal's 403 is left out of the API on purpose: a status no client expects.
STATUS = {list: 409, NotFound: 404, Busy: 503, Refusal: 403}


def lookup(payload: None, context: EventContext, item_id: str) -> Answer:
    if item_id == "missing":
        return NotFound(item_id=item_id)
    if item_id == "twin":
        return [Item(id=item_id, name=name, qty=1) for name in ("Left", "Right")]
    if item_id == "busy":
        return Busy(retry_in=5)
    if item_id == "locked":
        return Refusal(reason=f"{item_id} is locked")
    return Item(id=item_id, name=f"Item {item_id}", qty=1)


async def __postprocess__(
    payload: Answer, context: EventContext, response: PostprocessHook
) -> Answer:
    response.set_status(STATUS.get(type(payload), 200))
    return payload
