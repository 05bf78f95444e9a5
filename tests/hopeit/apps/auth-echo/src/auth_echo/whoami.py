"""Who am I: the Basic credentials of the request, on the app the plugin runs on"""

from hopeit.app.api import event_api
from hopeit.app.context import EventContext
from hopeit.dataobjects import dataclass, dataobject


@dataobject
@dataclass
class Credentials:
    """Credentials a request carried"""

    auth_type: str
    payload: str


__steps__ = ["whoami"]

__api__ = event_api(responses={200: (Credentials, "The request's credentials")})


def whoami(payload: None, context: EventContext) -> Credentials:
    return Credentials(
        auth_type=context.auth_info["auth_type"].value, payload=context.auth_info["payload"]
    )
