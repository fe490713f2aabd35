"""Which path each export stream of a sync takes: `export/data.json` windows (sync) or one export job (jobs).

`export_mode: sync` and `export_mode: jobs` decide for every stream. `auto` (the default, and a config without the
field) weighs the projected seconds of the whole sync, because both paths are limited per project, not per stream:
- synchronous: every request of every stream on that path shares `export_requests_per_minute` (Iterable: 4/min); the
  first minute's requests leave at once, each further one waits 60/rpm s (`sync_windows`: the requests of a range);
- jobs: every job API call of the process shares `export_job_requests_per_second` (0.95; a start, at least two file listings:
  one while running, one empty page after completion), and at most `max_concurrent_export_jobs` jobs process at a
  time, each taking about `export_job_latency_seconds` (Iterable does not document it: an estimate, configurable).
The two paths run side by side, so a plan costs the longer of its two sides. Three plans are weighed: by range
length (ranges longer than `export_jobs_min_days` on jobs, the rest sync), all jobs and all sync; the cheapest
wins, the range-length plan on a tie. Each stream's choice and the projections are logged.
"""

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from source_iterable.export.pacing import JOB_REQUESTS_PER_SECOND

LOGGER = logging.getLogger("airbyte")

SYNC = "sync"
JOBS = "jobs"
AUTO = "auto"
MODES = (AUTO, SYNC, JOBS)
JOB_CALLS_PER_JOB = 3
DEFAULT_JOB_LATENCY_SECONDS = 30.0


@dataclass(frozen=True)
class StreamRange:
    """The range one export stream reads in this sync: [start, end), start inclusive, end exclusive."""

    name: str
    start: datetime
    end: datetime

    @property
    def days(self) -> float:
        return max((self.end - self.start).total_seconds(), 0.0) / 86400


@dataclass(frozen=True)
class ExportSettings:
    mode: str = AUTO
    jobs_min_days: float = 7
    window_days: int = 30
    requests_per_minute: int = 4
    max_concurrent_jobs: int = 4
    job_latency_seconds: float = DEFAULT_JOB_LATENCY_SECONDS
    job_requests_per_second: float = JOB_REQUESTS_PER_SECOND

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "ExportSettings":
        return cls(
            mode=str(config.get("export_mode") or AUTO),
            jobs_min_days=float(config.get("export_jobs_min_days", 7)),
            window_days=int(config.get("window_days", 30)),
            requests_per_minute=int(config.get("export_requests_per_minute", 4)),
            max_concurrent_jobs=int(config.get("max_concurrent_export_jobs", 4)),
            job_latency_seconds=float(config.get("export_job_latency_seconds", DEFAULT_JOB_LATENCY_SECONDS)),
            job_requests_per_second=float(config.get("export_job_requests_per_second", JOB_REQUESTS_PER_SECOND)),
        )


def sync_windows(stream_range: StreamRange, window_days: int) -> int:
    """`export/data.json` requests for a range when its data is spread over it: one per `window_days`, plus the
    request that counts a range longer than that first (`onlyFields`). An empty or sparse range needs fewer; the
    path cannot know before reading, so this is the projection's upper bound."""
    seconds = (stream_range.end - stream_range.start).total_seconds()
    window = timedelta(days=window_days).total_seconds()
    if seconds <= 0:
        return 0
    return math.ceil(seconds / window) + (1 if seconds > window else 0)


def sync_seconds(windows: int, requests_per_minute: int) -> float:
    """Seconds the synchronous path waits on its rate limit for `windows` requests."""
    return max(windows - requests_per_minute, 0) * 60.0 / requests_per_minute


def jobs_seconds(jobs: int, settings: ExportSettings) -> float:
    """Seconds the jobs path takes for `jobs` jobs: its paced API calls plus the jobs' processing, 4 at a time."""
    if jobs == 0:
        return 0.0
    calls = jobs * JOB_CALLS_PER_JOB / settings.job_requests_per_second
    return calls + math.ceil(jobs / settings.max_concurrent_jobs) * settings.job_latency_seconds


def _cost(ranges: Sequence[StreamRange], jobs: set[str], settings: ExportSettings) -> tuple[float, float]:
    windows = sum(sync_windows(each, settings.window_days) for each in ranges if each.name not in jobs)
    return sync_seconds(windows, settings.requests_per_minute), jobs_seconds(len(jobs), settings)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def choose_paths(ranges: Sequence[StreamRange], settings: ExportSettings) -> dict[str, str]:
    """Map each stream's name to `sync` or `jobs`, logging one line per stream with the reason."""
    if settings.mode in (SYNC, JOBS):
        for each in ranges:
            LOGGER.info(
                f"{each.name}: reading {_range(each)} with the {_path(settings.mode)} (export_mode {settings.mode})."
            )
        return {each.name: settings.mode for each in ranges}
    by_length = {each.name for each in ranges if each.days > settings.jobs_min_days}
    plans = [
        ("ranges longer than export_jobs_min_days on export jobs", by_length),
        ("every stream on export jobs", {each.name for each in ranges}),
        ("every stream on export/data.json", set()),
    ]
    costs = [_cost(ranges, jobs, settings) for _, jobs in plans]
    best = min(range(len(plans)), key=lambda index: (max(costs[index]), index))
    label, jobs = plans[best]
    summary = "; ".join(
        f"{name}: {_duration(max(cost))} (data.json {_duration(cost[0])}, jobs {_duration(cost[1])})"
        for (name, _), cost in zip(plans, costs, strict=False)
    )
    LOGGER.info(
        f"Export paths (export_mode auto) for {len(ranges)} export streams, projected rate-limit waiting — {summary}. "
        f"Chosen: {label}."
    )
    paths = {}
    for each in ranges:
        path = JOBS if each.name in jobs else SYNC
        paths[each.name] = path
        LOGGER.info(
            f"{each.name}: reading {_range(each)} ({each.days:.1f} days, export_jobs_min_days "
            f"{settings.jobs_min_days:g}) with the {_path(path)}: {label}."
        )
    return paths


def _path(mode: str) -> str:
    return "export jobs" if mode == JOBS else "export/data.json windows"


def _range(each: StreamRange) -> str:
    return f"[{each.start:%Y-%m-%d %H:%M:%S}, {each.end:%Y-%m-%d %H:%M:%S})"
