"""One pace for every export request of the process: at most N requests in any sliding 60 s."""

import logging
import math
import threading
import time
import weakref
from collections import deque
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
    within a period is scheduled exactly `period + margin` seconds after the first (`SAFETY_MARGIN_SECONDS`).
    """

    limit: int
    period: float = 60.0
    margin: float = SAFETY_MARGIN_SECONDS
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _sent: deque[float] = field(default_factory=deque, init=False, repr=False)
    _blocked_until: float = field(default=0.0, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"export_requests_per_minute must be at least 1, got {self.limit}")

    def acquire(self) -> float:
        """Wait for a free slot, take it, and return how long this call waited (seconds)."""
        with self._lock:
            now = self.clock()
            slot = max(now, self._blocked_until)
            span = self.period + self.margin
            while self._sent and self._sent[0] <= slot - span:
                self._sent.popleft()
            if len(self._sent) >= self.limit:
                slot = max(slot, self._sent[-self.limit] + span)
            self._sent.append(slot)
        wait = slot - now
        if wait > 0:
            self.sleep(wait)
        return wait

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
