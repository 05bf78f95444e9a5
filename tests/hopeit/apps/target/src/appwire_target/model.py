"""Data objects of appwire-target."""

from typing import Dict, List, Optional

from hopeit.dataobjects import dataclass, dataobject, field


@dataobject
@dataclass
class Item:
    """An item of the catalog"""

    id: str
    name: str
    qty: int
    tags: List[str] = field(default_factory=list)
    price: Optional[float] = None


@dataobject
@dataclass
class Inspection:
    """What a request brought to its step"""

    query: Dict[str, str]
    track: Dict[str, str]
    instance: str


@dataobject
@dataclass
class NotFound:
    """No item with this id"""

    item_id: str


@dataobject
@dataclass
class Busy:
    """The catalog is being rebuilt"""

    retry_in: int


@dataobject
@dataclass
class Refusal:
    """Why a request was refused"""

    reason: str


@dataobject
@dataclass
class Caller:
    """The app an access token names"""

    app: str


def catalog(count: int) -> List[Item]:
    """`count` items, always the same ones."""
    return [Item(id=f"i-{n}", name=f"Item {n}", qty=n, tags=["catalog"]) for n in range(count)]
