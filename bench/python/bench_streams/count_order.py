"""count_order: the STREAM event the benchmark consumes with; it keeps how long each order took
from its publisher to this step."""

import asyncio
import time
from typing import List, Optional

from hopeit.app.context import EventContext

from bench_streams.model import Order

__steps__ = ["count"]

# Microseconds from publish to this step, one per order consumed.
LATENCIES_US: List[int] = []
# Set at each order, for a publisher that waits for its order to come through.
SEEN: Optional[asyncio.Event] = None


def count(payload: Order, context: EventContext) -> None:
    LATENCIES_US.append(time.time_ns() // 1000 - payload.sent_us)
    if SEEN is not None:
        SEEN.set()
