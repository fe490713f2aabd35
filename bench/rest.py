"""python -m bench.rest: a full sync of the demo account's REST streams against its slowest stream alone.

The emulator serves the default demo data set with Iterable's real per-endpoint rate limits (a fresh emulator per
run, so no run inherits another's spent budget). The benchmark times `source-iterable read` of every REST stream
together, then of each REST stream alone, and prints the full sync's wall time beside the slowest single stream's
and the sum of all: streams running concurrently make the first close to the second, far below the third.
Export streams are left out (their pace is the export throttle's, 4 requests a minute for all of them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.__main__ import CONSOLE_SCRIPT, timed
from integration_tests.emulator import Dataset, Emulator

EXPORT_KEY = [["_iterable_event_id"]]


def discover(work: Path) -> list[dict[str, Any]]:
    with Emulator(Dataset(seed=7)) as emulator:
        config = write_config(work, emulator)
        output = subprocess.run(
            [str(CONSOLE_SCRIPT), "discover", "--config", str(config)], capture_output=True, check=True, cwd=work
        ).stdout
    catalog = next(json.loads(line)["catalog"] for line in output.splitlines() if b'"CATALOG"' in line)
    return [
        stream
        for stream in catalog["streams"]
        if stream.get("source_defined_primary_key") != EXPORT_KEY and stream["name"] != "users"
    ]


def write_config(work: Path, emulator: Emulator) -> Path:
    path = work / "config.json"
    path.write_text(
        json.dumps(
            {
                "api_key": emulator.api_key,
                "api_base_url": emulator.url,
                "start_date": Dataset.EXPORT_START.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end_date": Dataset.EXPORT_END.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    )
    return path


def sync(work: Path, streams: list[dict[str, Any]], label: str) -> tuple[float, dict[str, int]]:
    """Wall seconds of one `read` of `streams` (full refresh) on a fresh emulator, and its records per stream."""
    catalog = {
        "streams": [
            {"stream": stream, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"} for stream in streams
        ]
    }
    (work / "catalog.json").write_text(json.dumps(catalog))
    with Emulator(Dataset(seed=7)) as emulator:
        config = write_config(work, emulator)
        run = timed(
            [str(CONSOLE_SCRIPT), "read", "--config", str(config), "--catalog", str(work / "catalog.json")],
            work / f"{label}.jsonl",
            work / f"{label}.err",
        )
    if run.returncode != 0:
        sys.exit(f"read of {label} failed:\n{(work / f'{label}.err').read_text()[-3000:]}")
    counts: dict[str, int] = {}
    for line in (work / f"{label}.jsonl").read_bytes().splitlines():
        message = json.loads(line)
        if message["type"] == "RECORD":
            counts[message["record"]["stream"]] = counts.get(message["record"]["stream"], 0) + 1
    return run.wall, counts


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-rest-") as folder:
        work = Path(folder)
        streams = discover(work)
        started = time.perf_counter()
        together, counts = sync(work, streams, "all")
        print(f"all {len(streams)} REST streams together: {together:.2f} s, {sum(counts.values())} records")
        alone = {}
        for stream in streams:
            alone[stream["name"]], _ = sync(work, [stream], stream["name"])
        print("| stream | records | alone s |\n|---|---:|---:|")
        for name, seconds in sorted(alone.items(), key=lambda item: -item[1]):
            print(f"| {name} | {counts.get(name, 0)} | {seconds:.2f} |")
        slowest = max(alone, key=alone.__getitem__)
        print(
            f"\nfull REST sync {together:.2f} s; slowest stream alone ({slowest}) {alone[slowest]:.2f} s; "
            f"sum of streams alone {sum(alone.values()):.2f} s; each run includes the ~1 s start-up "
            f"(benchmark took {time.perf_counter() - started:.0f} s)"
        )


if __name__ == "__main__":
    main()
