"""What the benchmark's Python workloads measure, as the Rust clients measure it."""

import math
from typing import List


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
