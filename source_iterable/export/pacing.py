"""The two paces of the export API: export/data.json requests (N in any sliding minute) and job-API calls (one at a
time, a gap after each answer). Both are built once per sync by the runtime (runtime.py) and shared by every stream."""

import math
import threading
import time
from collections.abc import Callable, Generator
from contextlib import contextmanager
from dataclasses import dataclass, field

from source_iterable.bounds import RETRY_AFTER_CAP_SECONDS

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# Iterable counts a request when it *arrives*; the throttle times a request just *before sending* it. Latency
# differs from one request to the next (a new TLS connection, a busy proxy), so pacing exactly at `period` can
# land the (limit+1)-th request a few milliseconds inside the window the first one opened on Iterable's clock:
# a 429. One second of margin on a 60 s window (1.7 % of the throughput) covers any plausible latency spread.
SAFETY_MARGIN_SECONDS = 1.0
# Job-API requests per second of this sync (Iterable: 1/s per organisation): one request at a time, the next
# sent 1/0.95 = 1.05 s after the previous one's answer (JobCallBudget). Hidden config
# `export_job_requests_per_second` changes it (the tests' emulator has no limit).
JOB_REQUESTS_PER_SECOND = 0.95
JOB_CALL_SPACING = 1 / JOB_REQUESTS_PER_SECOND


@dataclass(eq=False)
class Slot:
    """One request's place in the window: `at` is when it may go (then, once answered, when its answer came)."""

    at: float
    waited: float = 0.0


@dataclass
class ExportThrottle:
    """A sliding-window limiter: `acquire()` blocks until a request may go out; `rate_limited()` reacts to a 429.

    Why not the manifest's `api_budget` (`MovingWindowCallRatePolicy`): it waits with a real `time.sleep` on a
    real clock inside pyrate-limiter, so the spacing can only be tested by patching or sleeping; it cannot honour
    `Retry-After` (it reads `ratelimit-reset`-style headers) and HttpClient's own 429 retries (1, 2, 4 … s) would run
    beside it. Here every attempt of every export stream, retries included, goes through `acquire`, and a 429 blocks
    all of them until the window frees.

    Slots are *reserved* under a lock (a caller learns its send time, then sleeps outside the lock), so callers are
    served in arrival order and the arithmetic is exact with an injected `clock`/`sleep`: the (limit+1)-th call
    within a period is scheduled `period + margin` seconds after the first (`SAFETY_MARGIN_SECONDS`).
    Iterable counts *arrivals*, which happen between a request's send and its answer: the caller reports the
    answer (`answered(slot)`), the slot then counts from the answer's time, and a caller that wakes up re-checks
    its slot against the answers that came in meanwhile. So the spacing holds between arrivals whatever the
    latencies, not only between sends.
    """

    limit: int
    period: float = 60.0
    margin: float = SAFETY_MARGIN_SECONDS
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    _slots: list[Slot] = field(default_factory=list, init=False, repr=False)
    _blocked_until: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"export_requests_per_minute must be at least 1, got {self.limit}")

    def acquire(self) -> Slot:
        """Wait for a free slot and take it; the slot says how long this call waited (seconds)."""
        with self._lock:
            now = self.clock()
            span = self.period + self.margin
            self._slots = [slot for slot in self._slots if slot.at > now - span]
            slot = Slot(self._earliest(now, len(self._slots)))
            self._slots.append(slot)
        while True:
            wait = slot.at - self.clock()
            if wait > 0:
                self.sleep(wait)
            with self._lock:
                index = next((i for i, taken in enumerate(self._slots) if taken is slot), len(self._slots))
                earliest = self._earliest(slot.at, index)
                if earliest <= slot.at:
                    break
                slot.at = earliest
        slot.waited = max(0.0, slot.at - now)
        return slot

    def answered(self, slot: Slot) -> None:
        """The request of `slot` was answered (or failed) now: it arrived at Iterable no later than this."""
        with self._lock:
            slot.at = max(slot.at, self.clock())

    def _earliest(self, not_before: float, index: int) -> float:
        """The earliest time at or after `not_before` the slot at `index` may go, given the slots before it."""
        earliest = max(not_before, self._blocked_until)
        before = sorted(slot.at for slot in self._slots[:index])
        if len(before) >= self.limit:
            earliest = max(earliest, before[-self.limit] + self.period + self.margin)
        return earliest

    @property
    def spacing(self) -> float:
        """The mean time between two requests at the limit."""
        return (self.period + self.margin) / self.limit

    def rate_limited(self, retry_after: float | None) -> None:
        """Iterable answered 429: no export request leaves before `retry_after` seconds (request_policy's
        `rate_limit_wait`) have passed. None or a value that is not finite pauses a whole period; the pause is never
        longer than `RETRY_AFTER_CAP_SECONDS`: every wait has an upper bound."""
        if retry_after is None or not math.isfinite(retry_after):
            pause = self.period
        else:
            pause = min(max(retry_after, 0.0), RETRY_AFTER_CAP_SECONDS)
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.clock() + pause)


class CallSlot:
    """The right to send one job-API request now; `pause(seconds)` keeps the next one back longer (a 429)."""

    def __init__(self, budget: "JobCallBudget") -> None:
        self._budget = budget

    def pause(self, seconds: float) -> None:
        self._budget.hold(seconds)


@dataclass
class JobCallBudget:
    """Every job-API request of the sync, one at a time, each sent `gap` s or more after the previous *answer*.

    Why not `ExportThrottle` (send times `gap` apart): Iterable counts a request when it *arrives*; two requests
    sent 1.1 s apart can arrive less than 1 s apart when the first was delayed on its way (a slow connection, a busy
    thread), and a strict 1/s window answers 429 (measured on the emulator under load: 9 of 240). Here the next
    request leaves only after the previous one's answer came back, plus `gap`; as the previous request arrived
    before its answer and the next one arrives after it was sent, arrivals are always more than `gap` apart —
    whatever the latencies. The cost is one round trip per request on top of `gap`. A 429 (another client of the
    organisation) holds every request back for its wait. Clock and sleep are injectable.
    """

    gap: float
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    _free_at: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @contextmanager
    def slot(self) -> Generator[CallSlot, None, None]:
        """Wait for the budget, then hold it while the caller sends its request and reads the answer."""
        with self._lock:
            wait = self._free_at - self.clock()
            if wait > 0:
                self.sleep(wait)
            try:
                yield CallSlot(self)
            finally:
                self._free_at = max(self._free_at, self.clock() + self.gap)

    def hold(self, seconds: float) -> None:
        """Called while holding the slot: the next request waits `seconds` from now (at least `gap`)."""
        self._free_at = max(self._free_at, self.clock() + seconds)
