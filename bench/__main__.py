"""python -m bench [--records N ...] [--repeat 1] [--rich]: the export read path's throughput, memory and correctness.

For each N: the emulator serves one export window of N email_send events (bench/replay.py; with `--rich`, every
event carries `transactionalData` and `itblInternal` timestamps: bench/rich.py); the benchmark
downloads it once and checksums what was served; then it runs the real console script
`source-iterable read` (incremental email_send, first sync, one window) with stdout to a file, and the minimal
reference reader (bench/reference.py) on the same bytes. It prints wall time, records/s and peak RSS of each
process, our time divided by the reference's, and whether our records match the served ones (count and checksum).
Exit status 1 when a checksum or count does not match.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import requests

from bench import checksum
from bench.replay import DATA_TYPE, EXPORT_PATH, ReplayingEmulator
from bench.rich import RichDataset
from integration_tests.emulator import Dataset, Emulator

STREAM = "email_send"
REPO = Path(__file__).resolve().parent.parent
CONSOLE_SCRIPT = Path(sys.executable).parent / "source-iterable"


@dataclass
class Run:
    """One timed process: wall seconds from spawn to exit, CPU seconds (user + system), peak RSS (MiB; wait4)."""

    wall: float
    cpu: float
    peak_rss_mib: float
    returncode: int


def timed(command: list[str], stdout: Path, stderr: Path) -> Run:
    """Run `command` from `stdout`'s folder (not the repository), stdout and stderr to files, and time it."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=stdout.parent, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, process.returncode)


def window_url(base: str) -> str:
    query = urlencode(
        {
            "dataTypeName": DATA_TYPE,
            "startDateTime": Dataset.EXPORT_START.strftime("%Y-%m-%d %H:%M:%S"),
            "endDateTime": Dataset.EXPORT_END.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    return f"{base}{EXPORT_PATH}?{query}"


def record_served(url: str, api_key: str) -> checksum.Checksum:
    """Download the window once (the emulator spools it for the timed runs) and checksum what it served."""
    with requests.get(url, headers={"Api-Key": api_key}, stream=True, timeout=600) as response:
        response.raise_for_status()
        return checksum.of_served(response.iter_lines(chunk_size=1 << 16))


def connector_files(work: Path, emulator: Emulator) -> tuple[Path, Path]:
    config = {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        "start_date": Dataset.EXPORT_START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date": Dataset.EXPORT_END.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "window_days": 365,
    }
    catalog = {
        "streams": [
            {
                "stream": {"name": STREAM, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": "incremental",
                "destination_sync_mode": "append",
            }
        ]
    }
    config_path, catalog_path = work / "config.json", work / "catalog.json"
    config_path.write_text(json.dumps(config))
    catalog_path.write_text(json.dumps(catalog))
    return config_path, catalog_path


def read_lines(path: Path) -> Iterator[bytes]:
    with path.open("rb") as lines:
        yield from lines


def connector_command(entry: str, profile: Path | None) -> list[str]:
    if entry == "console":
        command = [str(CONSOLE_SCRIPT)]
    else:
        command = [sys.executable, "-m", "bench.stock" if entry == "stock" else entry.removeprefix("module:")]
    if profile is None:
        return command
    return [
        "py-spy",
        "record",
        "--threads",
        "--gil",
        "--rate",
        "200",
        "--format",
        "raw",
        "--output",
        str(profile),
        "--",
        *command,
    ]


@dataclass
class Result:
    records: int
    ours: Run
    reference: Run
    served: checksum.Checksum
    output: checksum.Output
    export_requests: list[dict[str, str]]
    reference_count: int

    @property
    def ok(self) -> bool:
        return self.output.records == self.served and self.reference_count == self.served.count


def bench_one(
    records: int,
    work: Path,
    entry: str = "console",
    profile: Path | None = None,
    rich: bool = False,
    served: checksum.Checksum | None = None,
) -> Result:
    """One timed run. `served`: the checksum of `work/served.jsonl`, recorded by an earlier run of the same data set
    (the body is then replayed from it, not generated and checksummed again); the file is kept for the next run."""
    dataset = RichDataset(records) if rich else Dataset(events_per_type={DATA_TYPE: records})
    with ReplayingEmulator(dataset, work / "served.jsonl", recorded=served is not None) as emulator:
        url = window_url(emulator.url)
        if served is None:
            started = time.perf_counter()
            served = record_served(url, emulator.api_key)
            print(f"  served: {served} ({time.perf_counter() - started:.1f} s to generate and checksum)", flush=True)
        else:
            print(f"  served: {served} (replayed from the previous run)", flush=True)
        config_path, catalog_path = connector_files(work, emulator)
        emulator.clear_requests()
        ours = timed(
            [*connector_command(entry, profile), "read", "--config", str(config_path), "--catalog", str(catalog_path)],
            work / "ours.jsonl",
            work / "ours.err",
        )
        exports = [
            {name: values[0] for name, values in r.params.items()} for r in emulator.requests if r.path == EXPORT_PATH
        ]
        reference = timed(
            [sys.executable, "-m", "bench.reference", url, emulator.api_key, STREAM],
            work / "reference.jsonl",
            work / "reference.err",
        )
    if ours.returncode != 0:
        sys.exit(f"source-iterable read failed ({ours.returncode}):\n{(work / 'ours.err').read_text()[-3000:]}")
    lines = read_lines(work / "ours.jsonl")
    if profile is not None:  # py-spy writes its own banner to stdout
        lines = (line for line in lines if line.strip() and not line.startswith(b"py-spy>"))
    output = checksum.of_output(lines, STREAM)
    reference_count = sum(1 for _ in read_lines(work / "reference.jsonl"))
    return Result(records, ours, reference, served, output, exports, reference_count)


def startup_seconds(work: Path) -> float:
    """Wall time of `source-iterable spec`: interpreter start, imports and manifest load, no data."""
    return timed([str(CONSOLE_SCRIPT), "spec"], work / "spec.json", work / "spec.err").wall


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    cdk = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.version('airbyte-cdk'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory_kib / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}, airbyte-cdk {cdk}, {platform.system()} {platform.release()}"
    )


def report(result: Result) -> str:
    ours, reference, n = result.ours, result.reference, result.records
    return (
        f"| {n:,} | {ours.wall:.2f} | {ours.cpu:.2f} | {n / ours.wall:,.0f} | {ours.peak_rss_mib:.0f} | "
        f"{reference.wall:.2f} | {reference.cpu:.2f} | {n / reference.wall:,.0f} | {reference.peak_rss_mib:.0f} | "
        f"{ours.wall / reference.wall:.2f} | {ours.cpu / reference.cpu:.2f} | {'match' if result.ok else 'MISMATCH'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000], help="N, one run per value")
    parser.add_argument("--repeat", type=int, default=1, help="runs per N (the served body is generated once per N)")
    parser.add_argument("--keep", action="store_true", help="keep the output files (their folder is printed)")
    parser.add_argument(
        "--entry",
        default="console",
        help="console: the source-iterable script (default); stock: the same source through the CDK's stock "
        "launch; module:<name>: python -m <name> (an experiment)",
    )
    parser.add_argument("--profile", type=Path, help="run the connector under py-spy, raw samples to this file")
    parser.add_argument(
        "--rich",
        action="store_true",
        help="every event carries transactionalData and itblInternal timestamps (bench/rich.py)",
    )
    args = parser.parse_args()
    os.chdir(REPO)
    rows, ok = [], True
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    try:
        print(f"machine: {machine()}")
        print(f"data set: {'rich (bench/rich.py)' if args.rich else 'default'}")
        print(f"startup (`source-iterable spec`): {startup_seconds(work):.2f} s", flush=True)
        for records in args.records:
            served = None
            for attempt in range(args.repeat):
                print(f"N = {records:,} (run {attempt + 1}/{args.repeat})", flush=True)
                result = bench_one(
                    records, work, args.entry, args.profile and args.profile.resolve(), args.rich, served
                )
                served = result.served
                print(f"  emitted: {result.output.records}; messages {result.output.message_types}")
                print(f"  export requests: {result.export_requests}")
                print(f"  last state: {json.dumps(result.output.last_state)}")
                print(f"  reference records: {result.reference_count:,}", flush=True)
                rows.append(report(result))
                ok = ok and result.ok
            (work / "served.jsonl").unlink(missing_ok=True)
    finally:
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work)
    print()
    print(
        "| N | ours s | ours CPU s | ours rec/s | ours peak RSS MiB | reference s | reference CPU s "
        "| reference rec/s | reference RSS MiB | ours / reference | ours CPU / reference CPU | checksum |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    print("\n".join(rows))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
