"""How a long export range is cut into export/data.json requests: as few as the data allows."""

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from source_iterable.export.window import Window


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
