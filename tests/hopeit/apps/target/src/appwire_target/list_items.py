"""List items: the first items of the catalog"""

from typing import List

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

from appwire_target.model import Item, catalog

__steps__ = ["list_items"]

__api__ = event_api(
    query_args=[("count", int, "How many items")],
    responses={200: (List[Item], "The items")},
)


def list_items(payload: None, context: EventContext, count: str) -> List[Item]:
    return catalog(int(count))
