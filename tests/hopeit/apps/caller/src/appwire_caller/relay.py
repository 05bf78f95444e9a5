"""Relay: the caller's events; hopeit runs them only to create the caller's keys"""

from typing import Optional

from hopeit.app.context import EventContext

__steps__ = ["relay"]


def relay(payload: Optional[str], context: EventContext) -> str:
    return context.event_name
