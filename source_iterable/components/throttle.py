"""One pace for every export request of the process: at most N requests in any sliding 60 s."""

import logging
import math
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

LOGGER = logging.getLogger("airbyte")

# Iterable counts a request when it *arrives*; the throttle times a request just *before sending* it. Latency
# differs from one request to the next (a new TLS connection, a busy proxy), so pacing exactly at `period` can
# land the (limit+1)-th request a few milliseconds inside the window the first one opened on Iterable's clock:
# a 429. One second of margin on a 60 s window (1.7 % of the throughput) covers any plausible latency spread.
SAFETY_MARGIN_SECONDS = 1.0
# The longest pause a 429's Retry-After may impose (a larger, infinite or nonsense value is capped and logged).
MAX_RETRY_AFTER_SECONDS = 300.0


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
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
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
        """The mean time between two requests at the limit: the first backoff step of a retried window."""
        return (self.period + self.margin) / self.limit

    def rate_limited(self, retry_after: float | None) -> None:
        """Iterable answered 429: no export request leaves before `Retry-After` (or a whole period) has passed.

        A `Retry-After` that is not a finite number falls back to a whole period; one longer than
        `MAX_RETRY_AFTER_SECONDS` is capped (and logged): every wait has an upper bound."""
        if retry_after is None or not math.isfinite(retry_after):
            pause = self.period
        elif retry_after > MAX_RETRY_AFTER_SECONDS:
            LOGGER.warning(
                f"Iterable asked to wait {retry_after:g} s before the next export request; waiting "
                f"{MAX_RETRY_AFTER_SECONDS:g} s instead (the longest wait the connector allows)."
            )
            pause = MAX_RETRY_AFTER_SECONDS
        else:
            pause = max(retry_after, 0.0)
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.clock() + pause)


_SHARED: "weakref.WeakKeyDictionary[Any, ExportThrottle]" = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_throttle(
    owner: Any, limit: int, period: float = 60.0, margin: float = SAFETY_MARGIN_SECONDS
) -> ExportThrottle:
    """The one throttle of `owner` (the source's API budget, built once per command), created on first use."""
    with _SHARED_LOCK:
        throttle = _SHARED.get(owner)
        if throttle is None:
            throttle = ExportThrottle(limit=limit, period=period, margin=margin)
            _SHARED[owner] = throttle
        return throttle
