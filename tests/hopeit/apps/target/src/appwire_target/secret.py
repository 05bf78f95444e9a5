"""Secret: an event only a signed caller app may call"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext

from appwire_target.model import Caller

__steps__ = ["secret"]

__api__ = event_api(responses={200: (Caller, "The app the access token names")})


def secret(payload: None, context: EventContext) -> Caller:
    return Caller(app=context.auth_info["payload"]["app"])
