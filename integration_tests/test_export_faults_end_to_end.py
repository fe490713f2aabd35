"""End to end under Iterable's worst day: the first attempt of every distinct export URL answers 500 and every
export body longer than N lines is cut. The read still ends with exact records, no duplicates, and a bounded
number of requests: each distinct URL is asked exactly twice (its 500, then its answer), and the only URLs beyond
the fault-free run's are the halves of the windows whose body was cut.
"""

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.emulator import Dataset, Emulator, faults
from integration_tests.test_export_end_to_end import (
    a_catalog,
    canonical,
    expected_event,
    expected_user,
    final_states,
    records_by_stream,
    run,
    without_event_ids,
)

EXPORT = "/api/export/data.json"
CUT_AFTER_LINES = 100
STREAMS = {"email_send": "emailSend", "email_open": "emailOpen"}
CATALOG = [*STREAMS, "users", "campaigns", "list_users"]


@pytest.fixture(scope="module")
def busy_emulator() -> Any:
    """400 emailSend and 250 emailOpen events, 50 users; rate limits off (this test is about correctness)."""
    with Emulator(
        Dataset(seed=7, events_per_type={"emailSend": 400, "emailOpen": 250}, users=50), rate_limits={}
    ) as emu:
        yield emu


def a_config(emulator: Emulator, window_days: int = 365) -> dict[str, Any]:
    return {
        "api_key": emulator.api_key,
        "start_date": "2025-01-01T00:00:00Z",
        "end_date": "2026-01-01T00:00:00Z",
        "api_base_url": emulator.url,
        "window_days": window_days,
        "lookback_window": 0,
        "export_requests_per_minute": 1000,
    }


def export_urls(emulator: Emulator) -> list[tuple[tuple[str, str], ...]]:
    return [
        tuple(sorted((key, values[0]) for key, values in r.params.items()))
        for r in emulator.requests
        if r.path == EXPORT
    ]


def body_lines(emulator: Emulator, url: tuple[tuple[str, str], ...]) -> int:
    """How many records the emulator holds for one export URL (asked directly, faults cleared)."""
    response = requests.get(
        f"{emulator.url}{EXPORT}", params=dict(url), headers={"Api-Key": emulator.api_key}, timeout=30
    )
    response.raise_for_status()
    return len(response.text.splitlines())


@pytest.mark.parametrize(
    "window_days",
    [
        pytest.param(365, id="the-year-in-one-request"),
        pytest.param(30, id="the-year-counted-first-then-read"),
    ],
)
def test_given_first_attempts_fail_and_long_bodies_are_cut_then_records_are_exact_and_requests_bounded(
    tmp_path: Path, busy_emulator: Emulator, window_days: int
) -> None:
    emulator, dataset = busy_emulator, busy_emulator.dataset
    config, catalog = a_config(emulator, window_days), a_catalog(CATALOG, "incremental")
    (tmp_path / "clean").mkdir()
    (tmp_path / "faulty").mkdir()

    emulator.clear_requests()
    clean = run(tmp_path / "clean", "read", config=config, catalog=catalog)
    fault_free = export_urls(emulator)

    emulator.clear_requests()
    emulator.inject(faults.first_attempt_fails())
    emulator.inject(faults.drop_mid_body(after_lines=CUT_AFTER_LINES, times=None, cut_only_longer=True))
    try:
        faulty = run(tmp_path / "faulty", "read", config=config, catalog=catalog)
    finally:
        emulator.clear_faults()
    asked = export_urls(emulator)
    statuses = [r.status for r in emulator.requests if r.path == EXPORT]

    records = records_by_stream(faulty)
    for name, data_type in STREAMS.items():
        assert canonical(without_event_ids(records[name])) == canonical(
            [expected_event(raw) for raw in dataset.events[data_type]]
        ), name
    assert canonical(records["users"]) == canonical([expected_user(raw) for raw in dataset.users])
    assert sorted(record["id"] for record in records["campaigns"]) == sorted(c["id"] for c in dataset.campaigns)
    assert Counter(map(len, records.values())) == Counter(map(len, records_by_stream(clean).values()))
    assert final_states(faulty) == final_states(clean)

    distinct = Counter(asked)
    assert set(distinct.values()) == {2}  # every URL: its first attempt (500), then one answer; no cascade
    assert statuses.count(500) == len(distinct)
    cut = [url for url in distinct if body_lines(emulator, url) > CUT_AFTER_LINES]
    assert cut, "the data set must be large enough for some bodies to be cut"
    assert len(distinct) == len(set(fault_free)) + 2 * len(cut)  # the only new URLs: two halves per cut body
    assert len(asked) <= 2 * len(fault_free) + 2 * 2 * len(cut)
