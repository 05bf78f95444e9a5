"""Item count: a plain integer result"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

__steps__ = ["item_count"]

__api__ = event_api(responses={200: (int, "Items in the catalog")})


def item_count(payload: None, context: EventContext) -> int:
    return 42
