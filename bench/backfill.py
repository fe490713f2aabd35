"""python -m bench.backfill [--events-per-type 10000] [--job-seconds 10] [--modes sync jobs]: a one-year backfill of
every export stream (the event types and users) against the emulator, through `export/data.json` (`sync`) and
through Iterable's export jobs (`jobs`).

For each mode, two runs of the real `source-iterable read` (incremental, first sync, default `window_days`):
- paced: the emulator enforces Iterable's real job limits (1 call/s per organization, 4 jobs running) and runs
  each job `--job-seconds` before its first file, 2 s per further file, all times `--time-scale` (1 = real time).
  `data.json`'s 4/minute is not run in real time (676 requests would take 2 h 50 min): its limit is lifted and
  its waiting projected from the request count, which fixes it exactly (the n-th request of a 4-per-60-s window
  cannot leave before floor((n-1)/4) minutes). The job budget's waiting is projected the same way (n calls at
  1/s: n-1 seconds), and the paced run measures it too (wall time, 429 answers).
- unpaced: every limit off and no job latency: how fast the connector reads (records/s) and its peak RSS.
Both modes must emit the same records (per-stream count and checksum of each RECORD's `data`, byte for byte) and
the same final state; exit status 1 otherwise.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from hashlib import blake2b
from pathlib import Path
from typing import Any

import orjson
import yaml

from bench.__main__ import CONSOLE_SCRIPT, REPO, Run, machine, timed
from integration_tests.emulator import REAL_RATE_LIMITS, Dataset, Emulator, ExportJobSettings

YEAR = {"start_date": "2025-01-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}
EXPORT_LIMIT = REAL_RATE_LIMITS["export"]
JOB_LIMIT = REAL_RATE_LIMITS["export_jobs"]
_JOB_ID = re.compile(r"^/api/export/\d+(/files)?$")
_MASK = (1 << 64) - 1
_FILE_READ = re.compile(r"export job \d+ file \S+: (\d+) rows, \d+ bytes in ([\d.]+) s")


def export_streams() -> list[str]:
    """The manifest's export streams: every stream built on `export_stream`, users included."""
    manifest = yaml.safe_load((REPO / "manifest.yaml").read_text())
    definitions = manifest["definitions"]
    names: list[str] = []
    pending = list(manifest["streams"])
    while pending:
        stream = pending.pop(0)
        if stream.get("type") == "ConditionalStreams":
            pending[:0] = stream["streams"]
            continue
        while "$ref" in stream and stream["$ref"] != "#/definitions/export_stream":
            overrides = {key: value for key, value in stream.items() if key != "$ref"}
            stream = {**definitions[stream["$ref"].rsplit("/", 1)[1]], **overrides}
        if stream.get("$ref") == "#/definitions/export_stream" and stream["$parameters"]["name"] not in names:
            names.append(stream["$parameters"]["name"])
    return names


def floor_seconds(requests: int, limit: tuple[int, float]) -> float:
    """The least time `requests` arrivals span under a sliding window of `calls` per `seconds`."""
    calls, seconds = limit
    return math.floor((requests - 1) / calls) * seconds if requests else 0.0


@dataclass
class Output:
    """What one read emitted: per stream a record count and an order-independent checksum; the final states."""

    records: Counter[str] = field(default_factory=Counter)
    checksums: Counter[str] = field(default_factory=Counter)
    states: dict[str, Any] = field(default_factory=dict)
    file_rows: int = 0  # from the connector's one log line per export-job file: rows and seconds reading it
    file_seconds: float = 0.0

    @classmethod
    def of(cls, path: Path) -> Output:
        output = cls()
        with path.open("rb") as lines:
            for line in lines:
                message = orjson.loads(line)
                if message["type"] == "RECORD":
                    record = message["record"]
                    digest = blake2b(orjson.dumps(record["data"], option=orjson.OPT_SORT_KEYS), digest_size=8)
                    output.records[record["stream"]] += 1
                    output.checksums[record["stream"]] = (
                        output.checksums[record["stream"]] + int.from_bytes(digest.digest(), "big")
                    ) & _MASK
                elif message["type"] == "LOG" and (read := _FILE_READ.search(message["log"]["message"])):
                    output.file_rows += int(read[1])
                    output.file_seconds += float(read[2])
                elif message["type"] == "STATE" and message["state"].get("type") == "STREAM":
                    stream = message["state"]["stream"]
                    output.states[stream["stream_descriptor"]["name"]] = stream["stream_state"]
        return output


@dataclass
class Result:
    mode: str
    run: Run
    output: Output
    requests: Counter[str]
    file_downloads: int
    rate_limited: int
    jobs: int

    def projected_wait(self) -> float:
        return floor_seconds(self.requests["GET /api/export/data.json"], EXPORT_LIMIT) + floor_seconds(
            self.job_calls(), JOB_LIMIT
        )

    def job_calls(self) -> int:
        return sum(
            count
            for endpoint, count in self.requests.items()
            if endpoint.split(" ", 1)[1].startswith("/api/export/") and "data.json" not in endpoint
        )


def read(mode: str, work: Path, emulator: Emulator, streams: list[str], paced: bool, scale: float) -> Result:
    # data.json's waiting is projected from its request count, never run; the job budget is run when paced.
    config = {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        **YEAR,
        "export_mode": mode,
        "lookback_window": 0,
        "export_requests_per_minute": 1_000_000,
    }
    if not paced:
        config["export_job_requests_per_second"] = 1_000_000
    elif scale != 1:
        config["export_job_requests_per_second"] = 0.9 / scale
    catalog = {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": "incremental",
                "destination_sync_mode": "append",
                "cursor_field": ["profileUpdatedAt" if name == "users" else "createdAt"],
            }
            for name in streams
        ]
    }
    config_path, catalog_path = work / "config.json", work / "catalog.json"
    config_path.write_bytes(orjson.dumps(config))
    catalog_path.write_bytes(orjson.dumps(catalog))
    emulator.clear_requests()
    jobs_before = len(emulator.jobs())
    tag = f"{mode}-{'paced' if paced else 'unpaced'}"
    run = timed(
        [str(CONSOLE_SCRIPT), "read", "--config", str(config_path), "--catalog", str(catalog_path)],
        work / f"{tag}.jsonl",
        work / f"{tag}.err",
    )
    if run.returncode != 0:
        errors = (work / f"{tag}.err").read_text()[-3000:]
        sys.exit(f"source-iterable read ({tag}) failed ({run.returncode}):\n{errors}")
    requests = Counter(
        f"{r.method} {_JOB_ID.sub(lambda m: '/api/export/{jobId}' + (m[1] or ''), r.path)}" for r in emulator.requests
    )
    return Result(
        mode,
        run,
        Output.of(work / f"{tag}.jsonl"),
        requests,
        sum(1 for r in emulator.file_host_requests if r.status == 200),
        sum(1 for r in emulator.requests if r.status == 429),
        len(emulator.jobs()) - jobs_before,
    )


def emulator_for(dataset: Dataset, paced: bool, args: argparse.Namespace) -> Emulator:
    if paced:
        scale = args.time_scale
        limits = {"export": (1_000_000, 60), "export_jobs": (JOB_LIMIT[0], JOB_LIMIT[1] * scale)}
        settings = ExportJobSettings(startup_seconds=args.job_seconds, time_scale=scale, file_bytes=args.file_bytes)
    else:
        limits = {}
        settings = ExportJobSettings(queue_seconds=0, startup_seconds=0, seconds_per_file=0, file_bytes=args.file_bytes)
    return Emulator(dataset, rate_limits=limits, export_jobs=settings)


def minutes(seconds: float) -> str:
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min {seconds % 60:.0f} s"


def report(paced: Result, unpaced: Result, scale: float) -> list[str]:
    records = sum(unpaced.output.records.values())
    endpoints = ", ".join(f"{endpoint} {count}" for endpoint, count in sorted(paced.requests.items()))
    return [
        f"### {paced.mode}",
        f"- requests: {endpoints}; file downloads {paced.file_downloads}; jobs started {paced.jobs}; "
        f"429 answers {paced.rate_limited}",
        f"- projected rate-limit waiting at Iterable's limits: {minutes(paced.projected_wait())} "
        f"(data.json {floor_seconds(paced.requests['GET /api/export/data.json'], EXPORT_LIMIT):.0f} s, "
        f"job calls {floor_seconds(paced.job_calls(), JOB_LIMIT):.0f} s)",
        (
            f"- paced run (job limits and latency, time x{scale:g}): wall {paced.run.wall:.1f} s"
            + (f" (= {paced.run.wall / scale:.0f} s at real time)" if scale != 1 else "")
        )
        if paced is not unpaced
        else "- paced run: not needed (data.json's only limit is projected above)",
        f"- unpaced read: {records:,} records in {unpaced.run.wall:.1f} s wall (the emulator renders in the same"
        f" time), {unpaced.run.cpu:.1f} s connector CPU: {records / unpaced.run.wall:,.0f} records/s wall, "
        f"{records / unpaced.run.cpu:,.0f} per CPU second; peak RSS {unpaced.run.peak_rss_mib:.0f} MiB",
        *(
            [
                f"- reading export-job files (unpaced): {unpaced.output.file_rows:,} records in "
                f"{unpaced.output.file_seconds:.1f} s of file reads, {unpaced.output.file_rows / unpaced.output.file_seconds:,.0f} "
                "records/s per reading thread"
            ]
            if unpaced.output.file_seconds
            else []
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.backfill", description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-type", type=int, default=10_000, help="events of each type in 2025")
    parser.add_argument("--modes", nargs="+", default=["sync", "jobs"], choices=["sync", "jobs", "auto"])
    parser.add_argument(
        "--job-seconds",
        type=float,
        default=10.0,
        help="a job's processing before its first file, in Iterable seconds (default 10)",
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiply the job budget's window and the jobs' latency (e.g. 0.1 for a quick run)",
    )
    parser.add_argument(
        "--file-bytes", type=int, default=ExportJobSettings.file_bytes, help="largest export-job file (Iterable: 10 MB)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the output files (their folder is printed)")
    args = parser.parse_args()
    os.chdir(REPO)
    streams = export_streams()
    dataset = Dataset(seed=7, events_per_type=args.events_per_type)
    work = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    results: dict[str, tuple[Result, Result]] = {}
    try:
        print(f"machine: {machine()}")
        print(f"{len(streams)} export streams, {args.events_per_type:,} events per type, one year", flush=True)
        for mode in args.modes:
            pair = []
            # sync's paced run would equal its unpaced one (its only limit, data.json's, is projected)
            for paced in (False,) if mode == "sync" else (True, False):
                with emulator_for(dataset, paced, args) as emulator:
                    print(f"{mode} ({'paced' if paced else 'unpaced'}) ...", flush=True)
                    pair.append(read(mode, work, emulator, streams, paced, args.time_scale))
            results[mode] = (pair[0], pair[-1])
            print("\n".join(report(*results[mode], args.time_scale)), flush=True)
    finally:
        if args.keep:
            print(f"outputs kept in {work}")
        else:
            shutil.rmtree(work)
    outputs = [output for pair in results.values() for output in (pair[0].output, pair[1].output)]
    same = all(
        (o.records, o.checksums, o.states) == (outputs[0].records, outputs[0].checksums, outputs[0].states)
        for o in outputs
    )
    print(f"records and final states identical across runs and modes: {'yes' if same else 'NO'}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
