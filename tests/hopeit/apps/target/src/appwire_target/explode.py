"""Explode: an event that always fails"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

from appwire_target.model import Item

__steps__ = ["explode"]

__api__ = event_api(responses={200: (Item, "Never answered")})


def explode(payload: None, context: EventContext) -> Item:
    raise RuntimeError("the catalog exploded")
