"""ExportThrottle: at most `limit` export requests in any sliding period, shared by every export stream."""

import pytest

from source_iterable.export.pacing import ExportThrottle
from source_iterable.export.runtime import SyncRuntime


class FakeTime:
    """A clock that only moves when the throttle sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def a_throttle(time: FakeTime, limit: int = 4) -> ExportThrottle:
    return ExportThrottle(limit=limit, period=60.0, clock=time.clock, sleep=time.sleep)


def test_given_four_per_minute_when_five_calls_at_once_then_the_fifth_waits_the_period_plus_the_margin() -> None:
    time = FakeTime()
    throttle = a_throttle(time)
    waits = [throttle.acquire().waited for _ in range(5)]
    assert waits == [0, 0, 0, 0, 61.0]
    assert time.now == 1061.0


@pytest.mark.parametrize(
    "limit, period, margin",
    [
        pytest.param(4, 60.0, 1.0, id="export-4-per-minute"),
        pytest.param(10, 60.0, 1.0, id="10-per-minute"),
        pytest.param(3, 1.0, 0.05, id="3-per-second"),
    ],
)
def test_given_calls_as_fast_as_allowed_then_the_first_and_the_n_plus_first_are_strictly_more_than_a_period_apart(
    limit: int, period: float, margin: float
) -> None:
    time = FakeTime()
    throttle = ExportThrottle(limit=limit, period=period, margin=margin, clock=time.clock, sleep=time.sleep)
    sent_at = []
    for _ in range(3 * limit + 1):
        throttle.acquire()
        sent_at.append(time.now)
    gaps = [later - earlier for earlier, later in zip(sent_at, sent_at[limit:], strict=False)]
    assert min(gaps) == pytest.approx(period + margin)
    assert min(gaps) > period


def test_given_two_streams_sharing_the_throttle_then_eight_calls_take_two_windows_in_arrival_order() -> None:
    time = FakeTime()
    throttle = a_throttle(time)
    sent_at = []
    for stream in ["email_send", "email_open"] * 4:
        throttle.acquire()
        sent_at.append((stream, time.now))
    assert sent_at == [
        ("email_send", 1000.0),
        ("email_open", 1000.0),
        ("email_send", 1000.0),
        ("email_open", 1000.0),
        ("email_send", 1061.0),
        ("email_open", 1061.0),
        ("email_send", 1061.0),
        ("email_open", 1061.0),
    ]


def test_given_calls_spread_out_then_any_61s_holds_at_most_four() -> None:
    time = FakeTime()
    throttle = a_throttle(time)
    sent_at = []
    for gap in [0, 10, 10, 10, 10, 10, 10, 10, 10]:
        time.now += gap
        throttle.acquire()
        sent_at.append(time.now - 1000)
    assert sent_at == [0, 10, 20, 30, 61, 71, 81, 91, 122]
    assert all(later - earlier > 60 for earlier, later in zip(sent_at, sent_at[4:], strict=False))


def test_given_a_429_with_retry_after_then_no_call_leaves_before_it_has_passed() -> None:
    time = FakeTime()
    throttle = a_throttle(time)
    throttle.acquire()
    throttle.rate_limited(retry_after=7)
    assert throttle.acquire().waited == 7.0


def test_given_a_429_without_retry_after_then_the_next_call_waits_a_whole_window() -> None:
    time = FakeTime()
    throttle = a_throttle(time)
    throttle.acquire()
    time.now += 5
    throttle.rate_limited(retry_after=None)
    assert throttle.acquire().waited == 60.0


def test_given_a_shorter_retry_after_than_a_full_window_then_the_window_still_applies() -> None:
    time = FakeTime()
    throttle = a_throttle(time, limit=1)
    throttle.acquire()
    throttle.rate_limited(retry_after=2)
    assert throttle.acquire().waited == 61.0


@pytest.mark.parametrize(
    "retry_after, wait",
    [
        pytest.param(86400.0, 60.0, id="a-day-capped-to-a-minute"),
        pytest.param(float("inf"), 60.0, id="infinite-is-a-period"),
        pytest.param(float("nan"), 60.0, id="nan-is-a-period"),
        pytest.param(-5.0, 0.0, id="negative-is-none"),
    ],
)
def test_given_a_nonsense_or_huge_retry_after_then_the_pause_is_bounded(retry_after: float, wait: float) -> None:
    time = FakeTime()
    throttle = a_throttle(time, limit=100)
    throttle.rate_limited(retry_after=retry_after)
    assert throttle.acquire().waited == wait


def test_given_a_limit_below_one_then_the_config_error_names_the_option() -> None:
    with pytest.raises(ValueError, match=r"^export_requests_per_minute must be at least 1, got 0$"):
        ExportThrottle(limit=0)


def test_given_one_sync_then_every_stream_gets_the_same_throttle_and_another_sync_its_own() -> None:
    runtime, other_runtime = SyncRuntime(), SyncRuntime()
    first = runtime.export_throttle(4, 60.0, 1.0)
    assert runtime.export_throttle(4, 60.0, 1.0) is first
    assert other_runtime.export_throttle(4, 60.0, 1.0) is not first
    assert first.limit == 4


def test_given_answers_later_than_sends_then_the_window_counts_from_the_answers() -> None:
    """Iterable counts arrivals; an arrival comes no later than its answer: spacing from answers holds whatever
    the latency (from sends alone, a slow first request would let the fifth arrive inside its window)."""
    time = FakeTime()
    throttle = a_throttle(time, limit=2)
    first, second = throttle.acquire(), throttle.acquire()
    time.now += 0.5
    throttle.answered(second)
    time.now += 2.0
    throttle.answered(first)  # the first request took 2.5 s to be answered
    third = throttle.acquire()
    assert third.at == 1000.5 + 61.0  # the second's answer + period + margin: the two oldest answers


def test_given_an_answer_arriving_while_a_caller_waits_then_the_caller_waits_for_it_too() -> None:
    time = FakeTime()
    throttle = a_throttle(time, limit=1)
    first = throttle.acquire()

    def sleep(seconds: float) -> None:
        time.sleep(seconds)
        if first.at == 1000.0:
            throttle.answered(first)  # answered at 1061: while the second caller slept

    throttle.sleep = sleep
    second = throttle.acquire()
    assert (second.at, second.waited) == (1061.0 + 61.0, 122.0)
