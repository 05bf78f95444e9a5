"""The streams benchmark's workloads through hopeit.engine and hopeit.redis-streams.

hopeit's own publisher and consumer, set up as `hopeit_server run` sets them up for the app of
`bench/spec/streams/app-config.json`: the engine's loggers (console only), Redis clients from
the factory of the plugin's `setup_redis_pool` event with its default pool settings, and an
`AppEngine` with streams enabled.

- `publish`: orders written one after the other as the engine writes an event's result to its
  `write_stream` (its stream manager's `write_stream`, with the event's compression and
  serialization: lz4, json+base64), for the run's duration after a warm-up.
- `consume`: the engine's own consumer, `AppEngine.read_stream` of the STREAM event
  `count_order` (read, decode, run the event, ack), until it has consumed `--messages` orders
  the bench wrote to the stream before.
- `idle`: end-to-end latency with an idle consumer: one order published at a time, the next one
  once `count_order` has seen it and 1 ms later.

It prints what the Rust clients print: `result <json>` at the end.
"""

import argparse
import asyncio
import time
from typing import List

# The script's folder is on the path: the shared measures, and the app's modules.
from measure import print_result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--redis", required=True, help="the server's URL")
    parser.add_argument("--workload", required=True, choices=["publish", "consume", "idle"])
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--warmup-ms", type=int, required=True)
    parser.add_argument("--duration-ms", type=int, required=True)
    parser.add_argument("--rate", type=int, help="(for the busy workload, which hopeit skips)")
    return parser.parse_args()


async def main() -> None:
    args = parse_args()

    # pylint: disable=import-outside-toplevel
    import redis.asyncio as redis
    from redis.asyncio import BlockingConnectionPool
    from hopeit.app.config import parse_app_config_json
    from hopeit.redis_streams import RedisStreamManager
    from hopeit.redis_streams.settings import RedisPoolSettings
    from hopeit.server.config import LoggingConfig, ServerConfig, StreamsConfig
    from hopeit.server.engine import AppEngine
    from hopeit.server.logger import engine_logger
    from hopeit.testing.apps import create_test_context

    from bench_streams import count_order
    from bench_streams.model import Order

    pool = RedisPoolSettings()

    def connection_factory(address: str) -> redis.Redis:
        # As the plugin's `setup_redis_pool` event makes them, with its default pool settings.
        return redis.Redis(
            connection_pool=BlockingConnectionPool.from_url(
                address,
                max_connections=pool.max_connections,
                timeout=pool.pool_timeout,
                socket_timeout=pool.socket_timeout,
                socket_connect_timeout=pool.socket_connect_timeout,
                health_check_interval=pool.health_check_interval,
                protocol=pool.protocol,
            )
        )

    RedisStreamManager.setup_connection_factory(connection_factory)
    with open(args.manifest, encoding="utf-8") as manifest:
        app_config = parse_app_config_json(manifest.read())
    app_config.server = ServerConfig(
        streams=StreamsConfig(
            stream_manager="hopeit.redis_streams.RedisStreamManager",
            connection_str=args.redis,
            delay_auto_start_seconds=0,
        ),
        logging=LoggingConfig(console_only=True),
    )
    engine_logger().init_server(app_config.server).init_app(app_config, plugins=[])
    engine = await AppEngine(
        app_config=app_config, plugins=[], enabled_groups=[], streams_wait_on_stop=False
    ).start()
    assert engine.stream_manager is not None
    context = create_test_context(app_config, "place_order")
    write = app_config.events["place_order"].write_stream
    assert write is not None
    sequence = 0

    async def publish() -> None:
        nonlocal sequence
        sequence += 1
        order = Order(
            order_id=f"order-{sequence}",
            item_id="item-1",
            quantity=sequence % 7 + 1,
            sent_us=time.time_ns() // 1000,
        )
        await engine.stream_manager.write_stream(
            stream_name=write.name,
            queue="AUTO",
            payload=order,
            track_ids=context.track_ids,
            auth_info=context.auth_info,
            compression=context.settings.stream.compression,
            serialization=context.settings.stream.serialization,
            target_max_len=context.settings.stream.target_max_len,
        )

    latencies: List[int] = []
    if args.workload == "publish":
        end = time.perf_counter() + args.warmup_ms / 1e3
        while time.perf_counter() < end:
            await publish()
        cpu, start = time.process_time(), time.perf_counter()
        end = start + args.duration_ms / 1e3
        while True:
            began = time.perf_counter()
            if began >= end:
                break
            await publish()
            latencies.append(round((time.perf_counter() - began) * 1e6))
        messages = len(latencies)
    elif args.workload == "consume":
        cpu, start = time.process_time(), time.perf_counter()
        await engine.read_stream(
            event_name="count_order", max_events=args.messages, wait_start=False
        )
        messages = len(count_order.LATENCIES_US)
    else:
        seen = count_order.SEEN = asyncio.Event()
        consumer = asyncio.create_task(
            engine.read_stream(
                event_name="count_order", max_events=args.messages + 1, wait_start=False
            )
        )
        # The consumer reads once its first order came through.
        await publish()
        await seen.wait()
        count_order.LATENCIES_US.clear()
        cpu, start = time.process_time(), time.perf_counter()
        for _ in range(args.messages):
            seen.clear()
            await publish()
            await seen.wait()
            await asyncio.sleep(0.001)
        latencies = list(count_order.LATENCIES_US)
        messages = len(latencies)
        await consumer
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu
    if args.workload == "consume":
        latencies = []
    latencies.sort()
    print_result(messages, 0, seconds, cpu_seconds, latencies)
    await engine.stop()


if __name__ == "__main__":
    asyncio.run(main())
