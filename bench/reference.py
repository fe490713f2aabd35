"""The minimal reference reader: stream one export body, parse each line, write one Airbyte RECORD per line.

python -m bench.reference URL API_KEY STREAM > records.jsonl

No windows, no state, no transformation: the floor a connector's read path is measured against.
"""

import sys
import time

import orjson
import requests


def main() -> None:
    url, api_key, stream = sys.argv[1:4]
    out = sys.stdout.buffer
    with requests.get(url, headers={"Api-Key": api_key}, stream=True, timeout=60) as response:
        response.raise_for_status()
        for line in response.iter_lines(chunk_size=1 << 16):
            if line:
                record = {"stream": stream, "data": orjson.loads(line), "emitted_at": time.time_ns() // 1_000_000}
                out.write(orjson.dumps({"type": "RECORD", "record": record}) + b"\n")
    out.flush()


if __name__ == "__main__":
    main()
