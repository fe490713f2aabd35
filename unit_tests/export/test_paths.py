"""The path each export stream takes in a sync (export_mode.choose_paths), by config and projected waiting."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from source_iterable.export.paths import (
    ExportSettings,
    StreamRange,
    choose_paths,
    jobs_seconds,
    sync_seconds,
    sync_windows,
)

END = datetime(2026, 1, 1, tzinfo=UTC)


def ranges(count: int, days: float, prefix: str = "s") -> list[StreamRange]:
    return [StreamRange(f"{prefix}{index}", END - timedelta(days=days), END) for index in range(count)]


def test_sync_projection_counts_the_requests_beyond_the_first_minute_at_15_seconds_each() -> None:
    assert sync_windows(StreamRange("a", END - timedelta(days=365), END), 30) == 13 + 1  # + the counting request
    assert sync_windows(StreamRange("a", END - timedelta(days=30), END), 30) == 1
    assert sync_seconds(52 * 13, 4) == (676 - 4) * 15  # 2 h 48 min: the "2 h 50 min" at 4/min
    assert sync_seconds(4, 4) == 0


def test_jobs_projection_counts_three_paced_calls_per_job_plus_latency_four_at_a_time() -> None:
    settings = ExportSettings(job_latency_seconds=30, job_requests_per_second=1.0)
    assert jobs_seconds(52, settings) == 52 * 3 + 13 * 30


@pytest.mark.parametrize("mode", ["sync", "jobs"])
def test_an_explicit_mode_puts_every_stream_on_its_path(mode: str) -> None:
    chosen = choose_paths(ranges(3, 1) + ranges(2, 365, "long"), ExportSettings(mode=mode))
    assert chosen == dict.fromkeys(["s0", "s1", "s2", "long0", "long1"], mode)


def test_auto_reads_a_one_year_backfill_of_52_streams_with_jobs() -> None:
    assert set(choose_paths(ranges(52, 365), ExportSettings()).values()) == {"jobs"}


def test_auto_reads_one_short_incremental_stream_with_data_json() -> None:
    assert choose_paths(ranges(1, 1), ExportSettings()) == {"s0": "sync"}


def test_auto_reads_52_short_ranges_with_jobs_when_data_json_would_wait_longer() -> None:
    # data.json: 52 requests at 4/min = 12 min of waiting; jobs: 52 x 3 calls at 0.95/s + 13 x 30 s = 9.2 min
    assert set(choose_paths(ranges(52, 1), ExportSettings()).values()) == {"jobs"}


def test_auto_keeps_data_json_for_52_short_ranges_when_jobs_are_slow_to_process() -> None:
    chosen = choose_paths(ranges(52, 1), ExportSettings(job_latency_seconds=120))
    assert set(chosen.values()) == {"sync"}


def test_auto_puts_only_ranges_longer_than_export_jobs_min_days_on_jobs_when_that_is_cheapest() -> None:
    chosen = choose_paths(ranges(2, 365, "long") + ranges(2, 3, "short"), ExportSettings(jobs_min_days=7))
    assert chosen == {"long0": "jobs", "long1": "jobs", "short0": "sync", "short1": "sync"}


def test_auto_follows_export_jobs_min_days_for_which_ranges_count_as_long() -> None:
    settings = ExportSettings(jobs_min_days=30)
    chosen = choose_paths(ranges(2, 365, "long") + ranges(2, 20, "mid"), settings)
    assert chosen == {"long0": "jobs", "long1": "jobs", "mid0": "sync", "mid1": "sync"}


def test_auto_logs_the_projection_and_each_streams_path(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="airbyte"):
        choose_paths(ranges(1, 365, "long"), ExportSettings())
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == (
        "Export paths (export_mode auto) for 1 export streams, projected rate-limit waiting — ranges longer than "
        "export_jobs_min_days on export jobs: 0m33s (data.json 0m00s, jobs 0m33s); every stream on export jobs: "
        "0m33s (data.json 0m00s, jobs 0m33s); every stream on export/data.json: 2m30s (data.json 2m30s, jobs "
        "0m00s). Chosen: ranges longer than export_jobs_min_days on export jobs."
    )
    assert messages[1] == (
        "long0: reading [2025-01-01 00:00:00, 2026-01-01 00:00:00) (365.0 days, export_jobs_min_days 7) with the "
        "export jobs: ranges longer than export_jobs_min_days on export jobs."
    )
