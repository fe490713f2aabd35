"""One pace for every export request of the process: at most N requests in any sliding 60 s."""

import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
    within a period is scheduled exactly `period` seconds after the first.
    """

    limit: int
    period: float = 60.0
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
            while self._sent and self._sent[0] <= slot - self.period:
                self._sent.popleft()
            if len(self._sent) >= self.limit:
                slot = max(slot, self._sent[-self.limit] + self.period)
            self._sent.append(slot)
        wait = slot - now
        if wait > 0:
            self.sleep(wait)
        return wait

    def rate_limited(self, retry_after: float | None) -> None:
        """Iterable answered 429: no export request leaves before `Retry-After` (or a whole period) has passed."""
        pause = self.period if retry_after is None else max(retry_after, 0.0)
        with self._lock:
            self._blocked_until = max(self._blocked_until, self.clock() + pause)


_SHARED: "weakref.WeakKeyDictionary[Any, ExportThrottle]" = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()


def shared_throttle(owner: Any, limit: int) -> ExportThrottle:
    """The one throttle of `owner` (the source's API budget, built once per command), created on first use."""
    with _SHARED_LOCK:
        throttle = _SHARED.get(owner)
        if throttle is None:
            throttle = ExportThrottle(limit=limit)
            _SHARED[owner] = throttle
        return throttle
