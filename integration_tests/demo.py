"""The README's main job: the `source-iterable` console script end to end against the local Iterable emulator.

Starts the emulator, writes a config into a temporary directory, runs `spec`, `check` and `discover`, configures
every discovered stream (incremental where supported, else full refresh), runs `read`, and prints a record count
per stream with the final states. Exits non-zero if a command fails or emits an ERROR trace.

    python -m integration_tests.demo [--seed 7] [--window-days 90] [--keep-dir]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integration_tests.emulator import EXPORT_END, EXPORT_START, REAL_RATE_LIMITS, Dataset, Emulator

# Iterable allows 4 export requests a minute: a year of ~50 export streams would take most of an hour.
DEMO_EXPORT_LIMIT = (1000, 60)
COMMAND_TIMEOUT_SECONDS = 900


@dataclass
class CommandResult:
    """What one console-script run emitted."""

    args: list[str]
    returncode: int
    seconds: float
    messages: Counter = field(default_factory=Counter)
    records: Counter = field(default_factory=Counter)
    states: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    payloads: dict[str, Any] = field(default_factory=dict)
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.errors


def console_script() -> str:
    """The installed `source-iterable` next to this interpreter (the venv's bin directory)."""
    candidate = Path(sys.executable).parent / "source-iterable"
    if not candidate.exists():
        sys.exit(f"demo: {candidate} not found; install the connector first (bash scripts/setup.sh)")
    return str(candidate)


def run_command(args: list[str], workdir: Path, on_message: Callable[[dict], None] | None = None) -> CommandResult:
    """Run the console script, reading its Airbyte messages line by line (a read can be large)."""
    started = time.monotonic()
    stderr_path = workdir / f"{args[0]}.stderr"
    result = CommandResult(args=args, returncode=-1, seconds=0.0)
    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [console_script(), *args], stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=workdir
        )
        assert process.stdout is not None
        for message in _messages(process.stdout, result):
            _record(message, result)
            if on_message:
                on_message(message)
        result.returncode = process.wait(timeout=COMMAND_TIMEOUT_SECONDS)
    result.seconds = time.monotonic() - started
    result.stderr_tail = "\n".join(stderr_path.read_text().splitlines()[-15:])
    return result


def _messages(lines: Iterator[str], result: CommandResult) -> Iterator[dict]:
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError:
            result.warnings.append(f"non-protocol output on stdout: {line[:200]}")


def _record(message: dict, result: CommandResult) -> None:
    kind = message.get("type", "?")
    result.messages[kind] += 1
    if kind == "RECORD":
        result.records[message["record"]["stream"]] += 1
    elif kind == "STATE":
        _record_state(message["state"], result)
    elif kind == "TRACE":
        trace = message["trace"]
        if trace.get("type") == "ERROR":
            error = trace.get("error", {})
            result.errors.append(f"{error.get('failure_type', '?')}: {error.get('message')}")
        elif trace.get("type") == "STREAM_STATUS":
            status = trace["stream_status"]
            result.statuses[status["stream_descriptor"]["name"]] = status["status"]
    elif kind == "LOG" and message["log"].get("level") in ("WARN", "ERROR", "FATAL"):
        result.warnings.append(f"{message['log']['level']}: {message['log']['message'][:300]}")
    elif kind in ("SPEC", "CONNECTION_STATUS", "CATALOG"):
        result.payloads[kind] = message[kind.lower() if kind != "CONNECTION_STATUS" else "connectionStatus"]


def _record_state(state: dict, result: CommandResult) -> None:
    if state.get("type") == "STREAM":
        stream = state["stream"]
        result.states[stream["stream_descriptor"]["name"]] = stream.get("stream_state")
    elif state.get("type") == "GLOBAL":
        result.states["(global)"] = state["global"]
    else:
        result.states["(legacy)"] = state.get("data")


def configured_catalog(catalog: dict) -> dict:
    """Every discovered stream: incremental (append, or append_dedup with a key) where supported, else full refresh."""
    streams = []
    for stream in catalog["streams"]:
        incremental = "incremental" in stream.get("supported_sync_modes", [])
        has_key = bool(stream.get("source_defined_primary_key"))
        configured: dict[str, Any] = {
            "stream": stream,
            "sync_mode": "incremental" if incremental else "full_refresh",
            "destination_sync_mode": ("append_dedup" if has_key else "append") if incremental else "overwrite",
        }
        if incremental and stream.get("default_cursor_field"):
            configured["cursor_field"] = stream["default_cursor_field"]
        if has_key:
            configured["primary_key"] = stream["source_defined_primary_key"]
        streams.append(configured)
    return {"streams": streams}


def expected_counts(dataset: Dataset) -> dict[str, int]:
    """How many records the emulator holds per stream name, for the streams whose name the demo knows."""
    counts = dataset.object_counts()
    for data_type, table in dataset.events.items():
        counts[data_type.lower()] = len(table)
    return counts


def _expected_for(stream: str, expected: dict[str, int]) -> int | None:
    return expected.get(stream, expected.get(stream.replace("_", "").lower()))


def print_summary(read: CommandResult, catalog: dict, expected: dict[str, int]) -> list[str]:
    """The per-stream table; returns the streams whose count differs from the emulator's data set."""
    modes = {s["stream"]["name"]: s["sync_mode"] for s in catalog["streams"]}
    mismatches = []
    width = max(len(name) for name in modes) + 2
    print(f"\n{'stream':<{width}} {'mode':<13} {'records':>8} {'emulator':>9}  {'status':<10} final state")
    print("-" * (width + 90))
    full_states = {}
    for name in sorted(modes):
        count = read.records.get(name, 0)
        want = _expected_for(name, expected)
        flag = "" if want is None or want == count else "  <-- differs"
        if flag:
            mismatches.append(name)
        state = json.dumps(read.states[name], separators=(",", ":")) if name in read.states else "-"
        if len(state) > 60:
            full_states[name] = read.states[name]
            state = "(below)"
        print(
            f"{name:<{width}} {modes[name]:<13} {count:>8} {'-' if want is None else want:>9}  "
            f"{read.statuses.get(name, '-'):<10} {state}{flag}"
        )
    print("-" * (width + 90))
    print(f"{'total':<{width}} {'':<13} {sum(read.records.values()):>8}")
    for name, state in full_states.items():
        print(f"\nfinal state of {name}:")
        for line in _state_lines(state):
            print(f"  {line}")
    return mismatches


def _state_lines(state: Any) -> list[str]:
    """A state on a few lines: one per partition for per-partition states, else compact JSON."""
    compact = {"separators": (",", ":")}
    if isinstance(state, dict) and isinstance(state.get("states"), list):
        rest = {key: value for key, value in state.items() if key != "states"}
        partitions = [
            f"{json.dumps(p.get('partition'), **compact)} -> {json.dumps(p.get('cursor'), **compact)}"
            for p in state["states"]
        ]
        return [*partitions, json.dumps(rest, **compact)]
    return [json.dumps(state, **compact)]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m integration_tests.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window-days", type=int, default=90, help="export window size in the config (default 90)")
    parser.add_argument("--keep-dir", action="store_true", help="keep the temporary directory with config/catalog")
    args = parser.parse_args()

    dataset = Dataset(seed=args.seed)
    limits = {**REAL_RATE_LIMITS, "export": DEMO_EXPORT_LIMIT}
    failures: list[str] = []
    with Emulator(dataset, rate_limits=limits) as emulator, tempfile.TemporaryDirectory(prefix="iterable-demo-") as tmp:
        workdir = Path(tmp)
        print(f"Iterable emulator at {emulator.url} (seed {args.seed}, small data set, all of it in 2025).")
        print(
            f"Rate limits: Iterable's real per-endpoint limits, EXCEPT export/data.json raised from "
            f"{REAL_RATE_LIMITS['export'][0]}/min to {DEMO_EXPORT_LIMIT[0]}/min (and the connector's "
            f"export_requests_per_minute likewise) so the demo takes seconds, not most of an hour."
        )
        config = {
            "api_key": emulator.api_key,
            "start_date": EXPORT_START.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_date": EXPORT_END.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "api_base_url": emulator.url,
            "window_days": args.window_days,
            "export_requests_per_minute": DEMO_EXPORT_LIMIT[0],
            # 7 days of per-day campaign metrics (7 requests) + the lifetime metrics (1): inside one minute's
            # budget of campaigns/metrics (10), which the demo keeps at Iterable's real limit. experiments/metrics
            # (1 request) has a budget of its own.
            "campaign_metrics_daily_days": 7,
        }
        (workdir / "config.json").write_text(json.dumps(config, indent=2))
        print(
            f"Config: {workdir / 'config.json'} (window_days={args.window_days}, "
            f"{config['start_date']} .. {config['end_date']})\n"
        )

        spec = _step("spec", run_command(["spec"], workdir), failures)
        if spec.ok and "SPEC" not in spec.payloads:
            failures.append("spec: no SPEC message")

        check = _step("check", run_command(["check", "--config", "config.json"], workdir), failures)
        status = check.payloads.get("CONNECTION_STATUS", {})
        print(f"        connection status: {status.get('status')} {status.get('message') or ''}".rstrip())
        if status.get("status") != "SUCCEEDED":
            failures.append(f"check: {status.get('status')} {status.get('message')}")

        discover = _step("discover", run_command(["discover", "--config", "config.json"], workdir), failures)
        catalog = discover.payloads.get("CATALOG")
        if not catalog:
            failures.append("discover: no CATALOG message")
            return _finish(failures, emulator)
        configured = configured_catalog(catalog)
        (workdir / "catalog.json").write_text(json.dumps(configured, indent=2))
        incremental = sum(1 for s in configured["streams"] if s["sync_mode"] == "incremental")
        print(
            f"        {len(configured['streams'])} streams discovered: {incremental} incremental, "
            f"{len(configured['streams']) - incremental} full refresh"
        )

        emulator.clear_requests()
        read = _step(
            "read", run_command(["read", "--config", "config.json", "--catalog", "catalog.json"], workdir), failures
        )
        mismatches = print_summary(read, configured, expected_counts(dataset))
        _print_requests(emulator)
        if mismatches:
            print(f"\nNote: {len(mismatches)} stream(s) differ from the emulator's data set: {', '.join(mismatches)}")
        if args.keep_dir:
            kept = Path(tempfile.mkdtemp(prefix="iterable-demo-kept-"))
            for name in ("config.json", "catalog.json"):
                (kept / name).write_text((workdir / name).read_text())
            print(f"Config and catalog kept in {kept}")
        return _finish(failures, emulator)


def _step(name: str, result: CommandResult, failures: list[str]) -> CommandResult:
    counts = ", ".join(f"{count} {kind}" for kind, count in sorted(result.messages.items()))
    mark = "ok " if result.ok else "FAILED"
    print(f"[{mark}] source-iterable {' '.join(result.args)}  ({result.seconds:.1f}s; {counts or 'no messages'})")
    for warning in result.warnings[:10]:
        print(f"        {warning}")
    if len(result.warnings) > 10:
        print(f"        ... and {len(result.warnings) - 10} more warnings")
    for error in result.errors:
        print(f"        ERROR trace: {error}")
        failures.append(f"{name}: ERROR trace: {error}")
    if result.returncode != 0:
        failures.append(f"{name}: exit code {result.returncode}")
        print(
            "        stderr (last lines):\n"
            + "\n".join(f"          {line}" for line in result.stderr_tail.splitlines())
        )
    return result


def _print_requests(emulator: Emulator) -> None:
    by_endpoint = Counter(request.path for request in emulator.requests)
    by_status = Counter(request.status for request in emulator.requests)
    exports = by_endpoint.get("/api/export/data.json", 0)
    print(
        f"\nEmulator saw {len(emulator.requests)} requests during read ({exports} export requests); "
        f"statuses: {dict(sorted(by_status.items()))}"
    )


def _finish(failures: list[str], emulator: Emulator) -> int:
    if failures:
        print("\nDEMO FAILED:")
        for failure in failures:
            print(f"  - {failure}")
        return 1
    print("\nDemo finished: spec, check, discover and read all succeeded.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
