"""The one progress watchdog of every export wait: a range, a job, a listing or a retry loop that stops moving ends.

Progress is what moves the sync forward: a record emitted, a window completed, a job listing that names a file not
listed before, a job changing state. Re-reading a file, a listing that repeats itself, a retry: not progress.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class ProgressWatchdog:
    """How long one reader has gone without progress, and whether that is longer than `seconds`.

    Time spent waiting for a throttle or job-call slot does not count (`exclude`): with 52 export streams queued at
    4 requests a minute, a healthy range can wait minutes for its turn. Everything else does: connect, time to first
    byte, a body that stopped, backoff between attempts, polling a job. So a stalled server ends the range after at
    most `seconds` plus the wait in progress (one read timeout, one poll delay).
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
