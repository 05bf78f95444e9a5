"""Data objects of shop."""

from hopeit.dataobjects import dataclass, dataobject


@dataobject(event_id="order_id")
@dataclass
class OrderPlaced:
    """An order, as published and consumed on every stream of shop"""

    order_id: str
    qty: int
