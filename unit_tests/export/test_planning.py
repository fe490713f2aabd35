"""WindowPlanner, ProgressWatchdog and EmittedKeys alone: what to read next after a failure, and what was emitted."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from source_iterable.export.keys import EmittedKeys, key_fields
from source_iterable.export.planner import FailureKind, GiveUp, Retry, Split, WindowFailed, WindowPlanner
from source_iterable.export.sizing import WindowSizer
from source_iterable.export.watchdog import ProgressWatchdog

DAY = datetime(2025, 1, 1, tzinfo=UTC)
MONTH = (DAY, DAY + timedelta(days=30))
HOUR = (DAY, DAY + timedelta(hours=1))
HALVES = ((DAY, DAY + timedelta(days=15)), (DAY + timedelta(days=15), DAY + timedelta(days=30)))


def a_planner() -> WindowPlanner:
    return WindowPlanner(min_window=timedelta(hours=1), tries_per_window=3, backoff_base=15.0, backoff_cap=60.0)


def failed(kind: FailureKind) -> WindowFailed:
    return WindowFailed(kind, "test")


@pytest.mark.parametrize(
    "window, kinds, decision",
    [
        pytest.param(MONTH, [FailureKind.BEFORE_BODY], Retry(MONTH, 15.0), id="5xx-retries-the-same-window"),
        pytest.param(MONTH, [FailureKind.BEFORE_BODY] * 2, Retry(MONTH, 30.0), id="second-5xx-backs-off-twice-as-long"),
        pytest.param(MONTH, [FailureKind.BEFORE_BODY] * 3, Split(HALVES), id="third-5xx-splits"),
        pytest.param(MONTH, [FailureKind.BODY_CUT], Split(HALVES), id="cut-after-data-splits-at-once"),
        pytest.param(MONTH, [FailureKind.READ_TIMEOUT], Split(HALVES), id="read-timeout-splits-at-once"),
        pytest.param(HOUR, [FailureKind.BODY_CUT], Retry(HOUR, 15.0), id="smallest-window-cut-is-retried"),
        pytest.param(HOUR, [FailureKind.READ_TIMEOUT] * 2, Retry(HOUR, 30.0), id="smallest-window-timeout-retried"),
        pytest.param(HOUR, [FailureKind.BEFORE_BODY] * 3, GiveUp(HOUR, 3), id="smallest-window-gives-up-after-three"),
        pytest.param(HOUR, [FailureKind.BODY_CUT] * 3, GiveUp(HOUR, 3), id="smallest-window-cut-gives-up-after-three"),
    ],
)
def test_decision_after_failures(window: Any, kinds: list[FailureKind], decision: Any) -> None:
    planner = a_planner()
    decisions = [planner.after_failure(window, failed(kind)) for kind in kinds]
    assert decisions[-1] == decision


def test_given_many_retries_then_the_backoff_stops_at_its_cap() -> None:
    planner = WindowPlanner(min_window=timedelta(hours=1), tries_per_window=6, backoff_base=15.0, backoff_cap=60.0)
    delays = [planner.after_failure(MONTH, failed(FailureKind.BEFORE_BODY)) for _ in range(5)]
    assert [decision.delay for decision in delays] == [15.0, 30.0, 60.0, 60.0, 60.0]  # type: ignore[union-attr]


def test_given_failures_of_two_windows_then_each_counts_its_own_tries() -> None:
    planner = a_planner()
    first, second = HALVES
    planner.after_failure(first, failed(FailureKind.BEFORE_BODY))
    planner.after_failure(first, failed(FailureKind.BEFORE_BODY))
    assert planner.after_failure(second, failed(FailureKind.BEFORE_BODY)) == Retry(second, 15.0)


def test_given_an_odd_number_of_seconds_then_the_halves_meet_at_a_whole_second() -> None:
    window = (DAY, DAY + timedelta(hours=2, seconds=1))
    decision = a_planner().after_failure(window, failed(FailureKind.BODY_CUT))
    assert decision == Split(((DAY, DAY + timedelta(seconds=3600)), (DAY + timedelta(seconds=3600), window[1])))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_given_no_progress_for_longer_than_the_watchdog_then_it_has_expired() -> None:
    clock = Clock()
    watchdog = ProgressWatchdog(seconds=300, clock=clock)
    clock.now += 300
    assert not watchdog.expired()
    clock.now += 1
    assert watchdog.expired()


def test_given_progress_then_the_watchdog_starts_again() -> None:
    clock = Clock()
    watchdog = ProgressWatchdog(seconds=300, clock=clock)
    clock.now += 250
    watchdog.progress()
    clock.now += 250
    assert not watchdog.expired()


def test_given_time_waiting_for_the_throttle_then_it_does_not_count() -> None:
    clock = Clock()
    watchdog = ProgressWatchdog(seconds=300, clock=clock)
    clock.now += 400
    watchdog.exclude(200)
    assert watchdog.silent_for() == 200
    assert not watchdog.expired()


@pytest.mark.parametrize(
    "primary_key, first, second, same",
    [
        pytest.param("email", {"email": "a"}, {"email": "a", "x": 1}, True, id="single-key"),
        pytest.param(
            ["listId", "email"], {"listId": 1, "email": "a"}, {"listId": 2, "email": "a"}, False, id="composite-key"
        ),
        pytest.param("email", {"x": 1}, {"x": 1}, True, id="no-key-value-same-content"),
        pytest.param("email", {"x": 1}, {"x": 2}, False, id="no-key-value-other-content"),
        pytest.param(None, {"x": 1, "y": 2}, {"y": 2, "x": 1}, True, id="no-primary-key-content-in-any-order"),
    ],
)
def test_dedupe_key(primary_key: Any, first: dict[str, Any], second: dict[str, Any], same: bool) -> None:
    keys = EmittedKeys(key_fields(primary_key))
    assert (keys.key_of(first) == keys.key_of(second)) is same


def test_given_records_before_and_after_a_reread_then_only_new_ones_are_first_time() -> None:
    keys = EmittedKeys(("id",))
    assert [keys.first_time({"id": n}) for n in (1, 2)] == [True, True]
    keys.expect_repeats()
    assert [keys.first_time({"id": n}) for n in (1, 2, 3, 3)] == [False, False, True, False]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


YEAR = (at("2025-01-01T00:00:00"), at("2026-01-01T00:00:00"))


def a_sizer(target: int = 3, max_days: int = 30) -> WindowSizer:
    return WindowSizer(max_window=timedelta(days=max_days), min_window=timedelta(hours=1), target_records=target)


def planned(times: list[str], target: int = 3) -> list[tuple[str, str, int]]:
    plan = a_sizer(target).plan(YEAR, [at(time).timestamp() for time in times])
    return [(start.isoformat()[:19], end.isoformat()[:19], holds) for (start, end), holds in plan]


@pytest.mark.parametrize(
    "times, expected",
    [
        pytest.param([], [("2025-01-01T00:00:00", "2026-01-01T00:00:00", 0)], id="empty-range-one-window-no-request"),
        pytest.param(
            ["2025-06-01T12:00:00"],
            [("2025-01-01T00:00:00", "2026-01-01T00:00:00", 1)],
            id="one-record-one-window-for-the-whole-range",
        ),
        pytest.param(
            [
                "2025-02-01T00:00:00",
                "2025-02-02T00:00:00",
                "2025-02-03T00:00:00",
                "2025-02-04T00:00:00",
                "2025-02-05T00:00:00",
                "2025-02-06T00:00:00",
                "2025-02-07T00:00:00",
            ],
            [
                ("2025-01-01T00:00:00", "2025-02-04T00:00:00", 3),
                ("2025-02-04T00:00:00", "2025-02-07T00:00:00", 3),
                ("2025-02-07T00:00:00", "2026-01-01T00:00:00", 1),
            ],
            id="dense-stretch-cut-every-target-records",
        ),
        pytest.param(
            ["2025-05-05T05:05:05.500000"] * 5,
            [("2025-01-01T00:00:00", "2025-05-05T05:05:06", 5), ("2025-05-05T05:05:06", "2026-01-01T00:00:00", 0)],
            id="more-than-target-in-one-second-stay-together",
        ),
        pytest.param(
            ["2025-12-31T23:59:59"],
            [("2025-01-01T00:00:00", "2026-01-01T00:00:00", 1)],
            id="window-clipped-to-the-range-end",
        ),
    ],
)
def test_plan(times: list[str], expected: list[tuple[str, str, int]]) -> None:
    assert planned(times) == expected


def test_given_one_record_per_window_then_a_window_ends_at_the_next_record_across_empty_months() -> None:
    assert planned(["2025-03-01T00:00:00", "2025-08-01T00:00:00"], target=1) == [
        ("2025-01-01T00:00:00", "2025-08-01T00:00:00", 1),
        ("2025-08-01T00:00:00", "2026-01-01T00:00:00", 1),
    ]


def test_given_a_long_dense_year_then_windows_never_exceed_target_records_and_cover_the_range() -> None:
    times = [(at("2025-01-01T00:00:00") + timedelta(minutes=37 * n)).timestamp() for n in range(10_000)]
    plan = a_sizer(target=1000).plan(YEAR, times)
    assert [holds for _, holds in plan] == [1000] * 10
    assert plan[0][0][0] == YEAR[0] and plan[-1][0][1] == YEAR[1]
    assert all(previous[0][1] == following[0][0] for previous, following in itertools.pairwise(plan))


@pytest.mark.parametrize(
    "records, size",
    [
        pytest.param(0, timedelta(days=30), id="empty-window-next-is-the-largest"),
        pytest.param(3, timedelta(days=10), id="target-records-at-the-observed-density"),
        pytest.param(1, timedelta(days=30), id="sparse-capped-at-window-days"),
        pytest.param(100_000, timedelta(hours=1), id="dense-floored-at-min-window"),
        pytest.param(6, timedelta(days=5), id="twice-the-target-half-the-span"),
    ],
)
def test_next_size(records: int, size: timedelta) -> None:
    window = (at("2025-01-01T00:00:00"), at("2025-01-11T00:00:00"))
    assert a_sizer(target=3).next_size(window, records) == size
