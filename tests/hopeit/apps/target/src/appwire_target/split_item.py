"""Split item: an item shared out in parts"""

from typing import List

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

from appwire_target.model import Item

__steps__ = ["split"]

__api__ = event_api(
    payload=(Item, "The item to split"),
    query_args=[("parts", int, "Number of parts")],
    responses={200: (List[Item], "One item per part")},
)


def split(payload: Item, context: EventContext, parts: str) -> List[Item]:
    n = int(parts)
    return [
        Item(id=f"{payload.id}-{i}", name=payload.name, qty=payload.qty // n, tags=payload.tags)
        for i in range(1, n + 1)
    ]
