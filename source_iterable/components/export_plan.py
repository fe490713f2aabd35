"""What to read next in one export range, and which records were already emitted: pure decisions, no I/O.

Kept apart from sending (export_request.py) and decoding (export_records.py) so the retry/split rules and the
de-duplication keys can be read and table-tested alone, and shared by every range reader (the synchronous
`export/data.json` windows, Iterable's asynchronous export jobs).
"""

import bisect
import enum
import math
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

Window = tuple[datetime, datetime]
# startDateTime/endDateTime as Iterable documents them (no offset = UTC).
REQUEST_FORMAT = "%Y-%m-%d %H:%M:%S"


def describe(window: Window) -> str:
    """`[start, end)` in Iterable's request format, as every message names a window."""
    return f"[{window[0].strftime(REQUEST_FORMAT)}, {window[1].strftime(REQUEST_FORMAT)})"


class FailureKind(enum.Enum):
    """How one attempt at a window failed; decides whether the same window is asked again or split."""

    # 5xx, connection refused/reset, connect timeout, or a body cut before its first record: the window itself is
    # not the problem, so it is asked again (a split would only multiply the URLs a flaky server fails once each).
    BEFORE_BODY = "before the body started"
    # The body stopped after records had arrived: a smaller window is likelier to come through whole.
    BODY_CUT = "body cut after data started"
    # Iterable stayed silent longer than the read timeout (before or inside the body): the window is too big.
    READ_TIMEOUT = "read timed out"


class WindowFailed(Exception):
    """One attempt at a window failed in a way worth another attempt; `WindowPlanner` decides which."""

    def __init__(self, kind: FailureKind, reason: str) -> None:
        self.kind = kind
        self.reason = reason
        super().__init__(f"{kind.value}: {reason}")


@dataclass(frozen=True)
class Retry:
    """Ask the same window again after `delay` seconds (each attempt still takes a throttle slot)."""

    window: Window
    delay: float


@dataclass(frozen=True)
class Split:
    """Read the window as two halves, oldest first."""

    halves: tuple[Window, Window]


@dataclass(frozen=True)
class GiveUp:
    """No attempt left: the range fails."""

    window: Window
    failures: int


Decision = Retry | Split | GiveUp


@dataclass
class WindowPlanner:
    """Decides, after a failed attempt, what to read next. One planner per range read.

    - `BEFORE_BODY`: the same window again, up to `tries_per_window` attempts, waiting `backoff_base` × 2^(n−1)
      seconds (at most `backoff_cap`) before the n-th retry; a window that failed that often is split (or, at
      `min_window`, given up).
    - `BODY_CUT`, `READ_TIMEOUT`: split at once; a window of `min_window` (cannot be halved) is retried like
      `BEFORE_BODY`, then given up.
    Halves are cut at a whole second. Under "the first attempt of every distinct URL fails", every window costs
    exactly two requests, so a range costs at most twice its fault-free requests plus the halves cut bodies force.
    """

    min_window: timedelta
    tries_per_window: int = 3
    backoff_base: float = 15.0
    backoff_cap: float = 60.0
    _failures: dict[Window, int] = field(default_factory=dict, init=False, repr=False)

    def after_failure(self, window: Window, failure: WindowFailed) -> Decision:
        failures = self._failures.get(window, 0) + 1
        self._failures[window] = failures
        halves = self._halves(window)
        if failure.kind is not FailureKind.BEFORE_BODY and halves is not None:
            return Split(halves)
        if failures < self.tries_per_window:
            return Retry(window, min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1)))
        if halves is not None:
            return Split(halves)
        return GiveUp(window, failures)

    def _halves(self, window: Window) -> tuple[Window, Window] | None:
        start, end = window
        if end - start < 2 * self.min_window:
            return None
        middle = start + timedelta(seconds=int((end - start).total_seconds()) // 2)
        return (start, middle), (middle, end)


@dataclass
class ProgressDeadline:
    """Bounds how long one range may go without progress (a record, or a window completed), retries included.

    Time spent waiting for a throttle slot does not count (`exclude`): with 52 export streams queued at 4 requests
    a minute, a healthy range can wait minutes for its turn. Everything else does: connect, time to first byte,
    a body that stopped, backoff between attempts. A stalled server therefore ends the range after at most
    `seconds` plus one read timeout.
    """

    seconds: float
    clock: Callable[[], float]
    _last_progress: float = field(default=0.0, init=False)
    _excluded: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._last_progress = self.clock()

    def progress(self) -> None:
        self._last_progress = self.clock()
        self._excluded = 0.0

    def exclude(self, seconds: float) -> None:
        self._excluded += max(seconds, 0.0)

    def silent_for(self) -> float:
        return self.clock() - self._last_progress - self._excluded

    def expired(self) -> bool:
        return self.silent_for() > self.seconds


class EmittedKeys:
    """The records of one range already emitted, so a re-read (retry after a cut, split halves) emits none twice.

    A record's key is a 64-bit hash of its primary key values (of its whole content when it has none). Until the
    first re-read the keys go in an `array('q')` (8 bytes a record, nothing looked up); `expect_repeats()` turns
    them into a set (about 60 bytes a record, only for a range that failed) that every later record is checked
    against. Two different records with colliding hashes (odds ~n²/2⁶⁵: 3·10⁻⁶ for ten million records in one
    failed range) would lose the later one: accepted for the memory saved.
    """

    def __init__(self, key_fields: tuple[str, ...]) -> None:
        self._fields = key_fields
        self._emitted: array[int] = array("q")
        self._seen: set[int] | None = None

    def key_of(self, record: Mapping[str, Any]) -> int:
        fields = self._fields
        if len(fields) == 1:
            value = record.get(fields[0])
            if value is not None:
                return hash(value)
        elif fields:
            values = tuple(record.get(name) for name in fields)
            if all(value is not None for value in values):
                return hash(values)
        return hash(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))

    def reset(self) -> None:
        """Forget every key: the records emitted so far cannot come again (their window is complete)."""
        self._emitted = array("q")
        self._seen = None

    def expect_repeats(self) -> None:
        if self._seen is None:
            self._seen = set(self._emitted)
            self._emitted = array("q")

    def first_time(self, record: Mapping[str, Any]) -> bool:
        """True (and remembered) the first time a record is offered."""
        key = self.key_of(record)
        seen = self._seen
        if seen is None:
            self._emitted.append(key)
            return True
        if key in seen:
            return False
        seen.add(key)
        return True


def key_fields(primary_key: str | list[str] | list[list[str]] | None) -> tuple[str, ...]:
    """The top-level field names of a stream's primary key."""
    if isinstance(primary_key, str):
        return (primary_key,)
    return tuple(str(part) for part in primary_key or ())


@dataclass(frozen=True)
class WindowSizer:
    """How a range is cut into requests: as few as possible, each holding about `target_records` at most.

    Requests are what Iterable rations (4 a minute); bodies are cheap. So:
    - `plan(range, times)`: with the creation times of every record of the range (a probe; POSIX seconds,
      sorted), the windows that cover it, each with the number of records it holds: a window ends before the
      record that would make it hold more than `target_records` (a dense stretch gets short windows, a sparse
      one long windows, a year of a few records one window). It starts where the previous one ended, so an empty
      stretch costs nothing, and a window holding no record (an empty range, the empty tail) needs no request.
      Ends fall on whole seconds (Iterable's format); the records of one second stay in one window.
    - `next_size(window, records)`: without a probe, the span of the next window from the density the last one
      showed: `target_records` at that density, between `min_window` and `max_window` (window_days; an empty
      window: `max_window`).
    """

    max_window: timedelta
    min_window: timedelta
    target_records: int

    def plan(self, window: Window, times: Sequence[float]) -> list[tuple[Window, int]]:
        start, end = window
        planned: list[tuple[Window, int]] = []
        first = bisect.bisect_left(times, start.timestamp())
        last = bisect.bisect_left(times, end.timestamp())
        while first < last:
            earliest = math.floor(times[first])
            cut = first + self.target_records
            stop_at = end.timestamp() if cut >= last else math.floor(times[cut])
            stop_at = min(end.timestamp(), max(stop_at, earliest + 1))
            stop = datetime.fromtimestamp(stop_at, tz=UTC)
            holds = bisect.bisect_left(times, stop_at, first, last) - first
            planned.append(((start, stop), holds))
            start, first = stop, first + holds
        if start < end:
            planned.append(((start, end), 0))
        return planned

    def next_size(self, window: Window, records: int) -> timedelta:
        if records <= 0:
            return self.max_window
        seconds = (window[1] - window[0]).total_seconds() * self.target_records / records
        size = timedelta(seconds=int(seconds))
        return max(self.min_window, min(self.max_window, size))
