"""What the benchmark's Python workloads measure, as the Rust clients measure it."""

import json
import math
from typing import Any, Dict, List, Optional


def peak_rss_kib() -> int:
    """Peak resident memory of this process in KiB: `VmHWM` of `/proc/self/status`."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM line in /proc/self/status")


def quantile(sorted_us: List[int], q: float) -> int:
    """The value at quantile `q`: the smallest value at least `q` of the values are at most."""
    if not sorted_us:
        return 0
    return sorted_us[max(0, math.ceil(q * len(sorted_us)) - 1)]


def print_result(
    calls: int,
    failed: int,
    seconds: float,
    cpu_seconds: float,
    sorted_us: List[int],
    window: Optional[Dict[str, Any]] = None,
    first_error: Optional[str] = None,
) -> None:
    """Prints `result <json>`, what the bench reads from every client."""
    result = {
        "calls": calls,
        "failed": failed,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "p50_us": quantile(sorted_us, 0.50),
        "p99_us": quantile(sorted_us, 0.99),
        "max_us": sorted_us[-1] if sorted_us else 0,
        "peak_rss_kib": peak_rss_kib(),
        "window": window,
        "first_error": first_error,
    }
    print("result " + json.dumps(result), flush=True)
