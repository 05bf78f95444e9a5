"""Stock count: an event with a dotted name"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

__steps__ = ["count"]

__api__ = event_api(
    query_args=[("warehouse", int, "Warehouse number")],
    responses={200: (int, "Units in stock")},
)


def count(payload: None, context: EventContext, warehouse: str) -> int:
    return 100 + int(warehouse)
