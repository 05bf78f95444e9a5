"""The benchmark's workload through hopeit.engine's apps-client.

The client is set up as a hopeit server sets it up: the manifest parsed by hopeit
(`parse_app_config_json`), the engine's loggers set up (console only), one `AppsClient` per
app connection registered and started by `register_app_connections`, and calls made with
`app_call` on behalf of the caller event `show_item`, on asyncio's default event loop (that of
hopeit's default gunicorn worker).

It takes the arguments of the Rust clients and prints what they print: `ready` when the
measured run starts (for the failover case) and `result <json>` at the end.
"""

import argparse
import asyncio
import os
import time
from typing import List, Optional

from measure import print_result, quantile


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--hosts", required=True, help="comma-separated base URLs")
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--warmup-ms", type=int, required=True)
    parser.add_argument("--duration-ms", type=int, required=True)
    parser.add_argument("--window-from-ms", type=int)
    parser.add_argument("--window-to-ms", type=int)
    return parser.parse_args()


class Tally:
    """Latencies (microseconds) and failures of a run, and of the calls started in a window."""

    def __init__(self, window: Optional[tuple]):
        self.latencies: List[int] = []
        self.failed = 0
        self.first_error: Optional[str] = None
        self.window = window
        self.window_latencies: List[int] = []
        self.window_failed = 0

    def record(self, began: float, latency_us: int, error: Optional[BaseException]) -> None:
        self.latencies.append(latency_us)
        if error is not None:
            self.failed += 1
            if self.first_error is None:
                self.first_error = f"{type(error).__name__}: {error}"
        if self.window is not None and self.window[0] <= began < self.window[1]:
            self.window_latencies.append(latency_us)
            self.window_failed += error is not None


async def drive(call, concurrency: int, end: float, window: Optional[tuple]) -> Tally:
    tally = Tally(window)

    async def caller() -> None:
        while True:
            began = time.perf_counter()
            if began >= end:
                return
            error: Optional[BaseException] = None
            try:
                await call()
            except Exception as e:  # pylint: disable=broad-except
                error = e
            tally.record(began, round((time.perf_counter() - began) * 1e6), error)

    await asyncio.gather(*(caller() for _ in range(concurrency)))
    return tally


async def main() -> None:
    args = parse_args()
    os.environ["BENCH_CATALOG_HOSTS"] = args.hosts

    # pylint: disable=import-outside-toplevel
    from hopeit.app.client import app_call, register_app_connections, stop_app_connections
    from hopeit.app.config import parse_app_config_json
    from hopeit.dataobjects import dataclass, dataobject
    from hopeit.server.config import LoggingConfig, ServerConfig
    from hopeit.server.logger import engine_logger
    from hopeit.testing.apps import create_test_context

    @dataobject
    @dataclass
    class Item:
        """An item of the catalog."""

        id: str
        name: str
        price: Optional[float] = None
        served_by: Optional[str] = None

    with open(args.manifest, encoding="utf-8") as manifest:
        app_config = parse_app_config_json(manifest.read())
    # As `hopeit_server run` does, with logs on the console (the bench keeps them in a file).
    app_config.server = ServerConfig(logging=LoggingConfig(console_only=True))
    engine_logger().init_server(app_config.server).init_app(app_config, plugins=[])
    await register_app_connections(app_config)
    context = create_test_context(app_config, "show_item")

    async def call() -> None:
        await app_call(
            "catalog",
            event="get_item",
            datatype=Item,
            payload=None,
            context=context,
            item_id="item-1",
        )

    await drive(call, args.concurrency, time.perf_counter() + args.warmup_ms / 1e3, None)

    if args.window_from_ms is not None:
        print("ready", flush=True)
    cpu = time.process_time()
    start = time.perf_counter()
    window = None
    if args.window_from_ms is not None and args.window_to_ms is not None:
        window = (start + args.window_from_ms / 1e3, start + args.window_to_ms / 1e3)
    tally = await drive(call, args.concurrency, start + args.duration_ms / 1e3, window)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu

    latencies = sorted(tally.latencies)
    window_latencies = sorted(tally.window_latencies)
    print_result(
        len(latencies),
        tally.failed,
        seconds,
        cpu_seconds,
        latencies,
        window=None
        if window is None
        else {
            "calls": len(window_latencies),
            "failed": tally.window_failed,
            "p99_us": quantile(window_latencies, 0.99),
            "max_us": window_latencies[-1] if window_latencies else 0,
        },
        first_error=tally.first_error,
    )
    await stop_app_connections(app_config.app_key())


if __name__ == "__main__":
    asyncio.run(main())
