"""Describe: a plain string result sent as text/plain"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext, PostprocessHook

__steps__ = ["describe"]

__api__ = event_api(responses={200: (str, "A description, as text")})


def describe(payload: None, context: EventContext) -> str:
    return "A catalog of items"


async def __postprocess__(payload: str, context: EventContext, response: PostprocessHook) -> str:
    response.set_content_type("text/plain")
    return payload
