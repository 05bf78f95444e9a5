"""Data objects of bench-streams."""

from hopeit.dataobjects import dataclass, dataobject


@dataobject(event_id="order_id")
@dataclass
class Order:
    """An order; `sent_us` is when it was published, in µs since the Unix epoch."""

    order_id: str
    item_id: str
    quantity: int
    sent_us: int
