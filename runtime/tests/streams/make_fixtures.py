"""Writes `fixtures.json`: one JSON payload encoded for every `ser` x `comp` of hopeit.engine 0.30.1.

Each encoding is made exactly as hopeit's `serialization.py` and `compression.py` make it
(`compress(serialize(payload))`, base64 before compression), with the same default levels, so
that `stream_codec.rs` reads bytes a hopeit publisher would send. Needs only the standard
library and `lz4` (4.4.5, what hopeit installs):

    /path/to/.venv-hopeit/bin/python runtime/tests/streams/make_fixtures.py

The output is deterministic except for `gzip` (its header holds the time) and `lzma`, which do
not matter to a reader.
"""

import base64
import bz2
import gzip
import json
import lzma
import os
import zlib

import lz4.frame

# hopeit's `_ALGOS`: algorithm, default level.
ALGOS = {
    "none": (lambda level, data: data, 0),
    "lz4": (lambda level, data: lz4.frame.compress(data, compression_level=level), 3),
    "zip": (lambda level, data: zlib.compress(data, level=level), 6),
    "gzip": (lambda level, data: gzip.compress(data, compresslevel=level), 9),
    "bz2": (lambda level, data: bz2.compress(data, compresslevel=level), 9),
    "lzma": (lambda level, data: lzma.compress(data), 0),
}
COMPRESSIONS = [
    "none", "lz4", "lz4:0", "lz4:16", "zip", "zip:1", "zip:9",
    "gzip", "gzip:1", "gzip:9", "bz2", "bz2:1", "bz2:9", "lzma",
]
SERIALIZATIONS = {
    "json": lambda data: data,
    "json+base64": base64.b64encode,
}


def compress(comp: str, data: bytes) -> bytes:
    info = comp.split(":")
    fn, default_level = ALGOS[info[0]]
    return fn(default_level if len(info) <= 1 else int(info[1]), data)


def encode(ser: str, comp: str, data: bytes) -> str:
    return base64.b64encode(compress(comp, SERIALIZATIONS[ser](data))).decode()


# Compact, UTF-8 and not ASCII-escaped, as pydantic's `model_dump_json` writes.
PAYLOAD = json.dumps(
    {"order_id": "order-1", "qty": 3, "price": 12.5, "note": "café ✓",
     "placed_at": "2026-12-01T18:54:32.849980Z", "tags": ["a", "b"], "gift": None},
    separators=(",", ":"), ensure_ascii=False,
).encode()
# Over 64 KiB, so that lz4 splits it into linked blocks (FLG 0x48). Not stored: the Rust test
# builds the same text.
BIG = json.dumps(
    {"items": [{"n": i % 50, "sku": f"sku-{i % 50}"} for i in range(4000)]},
    separators=(",", ":"),
).encode()
assert len(BIG) > 65536

# 90 bytes of JSON, 120 of base64: the frame `streams.md` shows.
SMALL = json.dumps({"order_id": "order-1", "qty": 3, "note": "x" * 50}, separators=(",", ":")).encode()
assert len(SMALL) == 90

fixtures = {
    "payload": PAYLOAD.decode(),
    "encoded": {f"{ser}|{comp}": encode(ser, comp, PAYLOAD) for ser in SERIALIZATIONS for comp in COMPRESSIONS},
    "big_encoded": {f"{ser}|lz4": encode(ser, "lz4", BIG) for ser in SERIALIZATIONS},
    "small_payload": SMALL.decode(),
    "small_lz4_frame": encode("json+base64", "lz4", SMALL),
}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump(fixtures, f, indent=1, ensure_ascii=False)
    f.write("\n")
