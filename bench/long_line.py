"""python -m bench.long_line [--mb 10 25 50] [--repeat 2]: StrictJsonlDecoder on export bodies with one huge line.

Each body is a normal line, one line of about M MB (an event whose `transactionalData` string holds M MB, as a
big transactional payload would arrive), then another normal line. The body reaches the decoder the way the
connector reads it (`Response.iter_content` in the decoder's 64 KiB chunks, from memory: the network is not timed).
The decoder must take time linear in the body size: the seconds per MB should stay about flat as M grows.
Exit status 1 when a body does not decode to its three records.
"""

from __future__ import annotations

import argparse
import io
import sys
import time

import orjson
import requests

from source_iterable.export.jsonl import StrictJsonlDecoder

_NORMAL = b'{"createdAt":"2025-03-04 05:06:07 +00:00","email":"a@example.com","messageId":"m1"}\n'


def body(megabytes: float) -> bytes:
    payload = orjson.dumps({"items": "x" * int(megabytes * 1_000_000)}).decode()
    huge = orjson.dumps({"createdAt": "2025-03-04 05:06:08 +00:00", "transactionalData": payload})
    return _NORMAL + huge + b"\n" + _NORMAL


def response_of(data: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = 200
    response.raw = io.BytesIO(data)
    return response


def time_decode(data: bytes) -> tuple[float, int]:
    decoder = StrictJsonlDecoder(parameters={})
    started = time.perf_counter()
    records = sum(1 for _ in decoder.decode(response_of(data)))
    return time.perf_counter() - started, records


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.long_line", description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[10, 25, 50], help="size of the long line, MB")
    parser.add_argument("--repeat", type=int, default=2, help="runs per size")
    args = parser.parse_args()
    ok = True
    print("| line MB | body bytes | decode s | s per MB | records |")
    print("|---:|---:|---:|---:|---:|")
    for megabytes in args.mb:
        data = body(megabytes)
        for _ in range(args.repeat):
            seconds, records = time_decode(data)
            ok = ok and records == 3
            row = f"| {megabytes:g} | {len(data):,} | {seconds:.3f} | {seconds / megabytes:.4f} | {records} |"
            print(row, flush=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
