"""Relay: every order consumed from appwire.relay_in, published again to appwire.relay_out with
hopeit's default encoding (lz4, json+base64)"""

from hopeit.app.context import EventContext

from shop.model import OrderPlaced

__steps__ = ["relay"]


def relay(payload: OrderPlaced, context: EventContext) -> OrderPlaced:
    return payload
