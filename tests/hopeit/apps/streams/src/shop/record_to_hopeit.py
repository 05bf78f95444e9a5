"""Record to hopeit: every order consumed from appwire.to_hopeit (queues high and AUTO), published
again to appwire.hopeit_seen (its queue propagated, no compression, json) for tests to read"""

from hopeit.app.context import EventContext

from shop.model import OrderPlaced

__steps__ = ["record"]


def record(payload: OrderPlaced, context: EventContext) -> OrderPlaced:
    return payload
