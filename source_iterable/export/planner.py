"""What to read next after a failed attempt at an export/data.json window: a pure decision, no I/O.

Kept apart from sending (data_json_request.py) and decoding (records.py) so the retry/split rules can be read and
table-tested alone.
"""

import enum
from dataclasses import dataclass, field
from datetime import timedelta

from source_iterable.bounds import EXPORT_WINDOW_TRIES
from source_iterable.export.window import Window, halves
from source_iterable.request_policy import BACKOFF


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
      seconds (at most `backoff_cap`; request_policy's backoff by default) before the n-th retry; a window that
      failed that often is split (or, at `min_window`, given up).
    - `BODY_CUT`, `READ_TIMEOUT`: split at once; a window of `min_window` (cannot be halved) is retried like
      `BEFORE_BODY`, then given up.
    Halves are cut at a whole second (`window.halves`). Under "the first attempt of every distinct URL fails", every
    window costs exactly two requests, so a range costs at most twice its fault-free requests plus the halves cut
    bodies force.
    """

    min_window: timedelta
    tries_per_window: int = EXPORT_WINDOW_TRIES
    backoff_base: float = BACKOFF.first
    backoff_cap: float = BACKOFF.cap
    _failures: dict[Window, int] = field(default_factory=dict, init=False, repr=False)

    def after_failure(self, window: Window, failure: WindowFailed) -> Decision:
        failures = self._failures.get(window, 0) + 1
        self._failures[window] = failures
        parts = halves(window, self.min_window)
        if failure.kind is not FailureKind.BEFORE_BODY and parts is not None:
            return Split(parts)
        if failures < self.tries_per_window:
            return Retry(window, min(self.backoff_cap, self.backoff_base * 2 ** (failures - 1)))
        if parts is not None:
            return Split(parts)
        return GiveUp(window, failures)
