"""The synchronous range reader: one range of one export stream read through `GET export/data.json` windows."""

import logging
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import requests

from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.components.export_plan import (
    FailureKind,
    GiveUp,
    ProgressDeadline,
    Retry,
    Split,
    Window,
    WindowFailed,
    WindowPlanner,
    WindowSizer,
    describe,
)
from source_iterable.components.export_records import ExportRecords
from source_iterable.components.export_request import ExportRequestSender
from source_iterable.components.jsonl import MalformedLineError, TruncatedBodyError
from source_iterable.components.timestamps import to_rfc3339

LOGGER = logging.getLogger("airbyte")


@dataclass(frozen=True)
class WindowDone:
    """Yielded by a range reader between records: every record of `window` has been yielded (checkpoint here)."""

    window: Window


class RangeProgress(Protocol):
    """What a range reader tells the retriever while it reads (implemented by `export_plan.EmittedKeys`)."""

    def expect_repeats(self) -> None:
        """Records already yielded may come again (a window is being re-read): de-duplicate from now on."""


class RangeReader(Protocol):
    """Reads one range `[start, end)` of one export stream; the seam every export path plugs into.

    `read_range` yields the range's records, transformed (see `ExportRecords`), in any order, and a `WindowDone`
    after the last record of each contiguous part it completes, oldest first (the retriever moves the stream's
    state there; a reader may yield only one, for the whole range). A record may be yielded twice only after
    `progress.expect_repeats()`: the caller (`ExportWindowRetriever`) drops repeats, batches, and checkpoints. A
    range that cannot be read raises an `AirbyteTracedException` naming the stream, the range and the cause; the
    state then stays at the last `WindowDone`.
    """

    def read_range(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress
    ) -> Iterator[dict[str, Any] | WindowDone]:
        """Yield every record of `window` and the `WindowDone`s; raise `AirbyteTracedException` when it cannot."""
        ...


@dataclass
class DataJsonRangeReader:
    """A range through `export/data.json`, in as few requests as the data allows (`WindowSizer`).

    - A range no longer than `sizer.max_window` (window_days; the usual incremental sync): one request.
    - A longer one: first a probe, one request for the whole range asking only the records' `time_field`
      (`onlyFields`): an empty range is then done, and the windows are planned from the records' times (dense
      stretches in small windows, sparse ones in large windows, empty stretches in none). A probe that fails, or
      holds more than `probe_limit` records (its times would not fit in memory), falls back to windows sized as
      they go by the density the last one showed.
    - Each window: one request, retried or split as `WindowPlanner` decides; `ExportRequestSender` sends and
      interprets each attempt, `ExportRecords` decodes and transforms the body. A window fails the range when the
      planner gives up, or when it made no progress (no record, no window completed) for `stall_seconds`,
      throttle waits excluded (`ProgressDeadline`): with the export requester's read timeout this bounds a
      stalled export (no headers, a body that stops) to about `stall_seconds` + one read timeout.
    """

    sender: ExportRequestSender
    records: ExportRecords
    sizer: WindowSizer
    time_field: str
    tries_per_window: int
    stall_seconds: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    probe_limit: int = 2_000_000

    @property
    def min_window(self) -> timedelta:
        return self.sizer.min_window

    def read_range(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress
    ) -> Iterator[dict[str, Any] | WindowDone]:
        start, end = window
        name = self.sender.stream_name
        if end - start <= self.sizer.max_window:
            yield from self._read_window(window, stream_slice, progress)
            yield WindowDone(window)
            return
        times = self._probe(window, stream_slice)
        if times is not None:
            plan = self.sizer.plan(window, times)
            LOGGER.info(
                f"{name}: {len(times)} records in {describe(window)}; reading them in "
                f"{sum(1 for _, holds in plan if holds)} export requests: "
                + ", ".join(f"{describe(part)} ({holds})" for part, holds in plan if holds)
            )
            for part, holds in plan:
                if holds:
                    yield from self._read_window(part, stream_slice, progress)
                yield WindowDone(part)
            return
        size = self.sizer.max_window
        while start < end:
            part = (start, min(end, start + size))
            count = 0
            for record in self._read_window(part, stream_slice, progress):
                count += 1
                yield record
            yield WindowDone(part)
            size = self.sizer.next_size(part, count)
            start = part[1]

    def _probe(self, window: Window, stream_slice: StreamSlice) -> Sequence[float] | None:
        """The sorted `time_field` of every record of `window` (POSIX seconds, 8 bytes a record: 16 MB at
        `probe_limit`), or None when they could not all be had.

        A failure before the body (5xx, connection) is retried like a window's, up to `tries_per_window` tries;
        anything else (a cut body, a record without a readable time, more than `probe_limit` records) gives up
        the plan: the range is then read in windows sized as they go."""
        name = self.sender.stream_name
        backoff = self.sender.throttle.spacing
        for attempt in range(1, self.tries_per_window + 1):
            try:
                return self._probe_once(window, stream_slice)
            except WindowFailed as failure:
                if failure.kind is not FailureKind.BEFORE_BODY or attempt == self.tries_per_window:
                    LOGGER.warning(f"{name}: could not count the records of {describe(window)} ({failure}); reading it in windows.")
                    return None
                LOGGER.warning(f"{name}: counting the records of {describe(window)} failed ({failure}); asking again.")
                self.sleep(backoff * 2 ** (attempt - 1))
        return None

    def _probe_once(self, window: Window, stream_slice: StreamSlice) -> Sequence[float] | None:
        name = self.sender.stream_name
        response = self.sender.send(window, stream_slice, _ignore, {"onlyFields": self.time_field})
        times: array[float] = array("d")
        try:
            for line in self.records.decoder.decode(response):
                moment = _instant(line.get(self.time_field))
                if moment is None or len(times) >= self.probe_limit:
                    reason = f"a record without a readable {self.time_field}" if moment is None else "too many records"
                    LOGGER.info(f"{name}: {describe(window)} holds {reason} to plan from; reading it in windows.")
                    return None
                times.append(moment.timestamp())
        except (MalformedLineError, TruncatedBodyError, requests.exceptions.RequestException) as error:
            raise WindowFailed(FailureKind.BODY_CUT, f"probe body failed: {error.__class__.__name__}") from error
        finally:
            response.close()
        return array("d", sorted(times))

    def _read_window(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress
    ) -> Iterator[dict[str, Any]]:
        throttle = self.sender.throttle
        planner = WindowPlanner(
            self.min_window, self.tries_per_window, backoff_base=throttle.spacing, backoff_cap=throttle.period
        )
        deadline = ProgressDeadline(self.stall_seconds, self.clock)
        pending = [window]
        failure: WindowFailed | None = None
        while pending:
            current = pending.pop()
            if failure is not None and deadline.expired():
                raise self._stalled(window, current, deadline, failure)
            count = 0
            try:
                response = self.sender.send(current, stream_slice, deadline.exclude)
                for record in self.records.read(response, current, stream_slice, self.sender.data_type):
                    count += 1
                    deadline.progress()
                    yield record
                deadline.progress()
            except WindowFailed as error:
                failure = error
                if count or error.kind is FailureKind.BODY_CUT:
                    progress.expect_repeats()
                pending.extend(self._next(planner, current, error))

    def _next(self, planner: WindowPlanner, window: Window, failure: WindowFailed) -> list[Window]:
        name = self.sender.stream_name
        decision = planner.after_failure(window, failure)
        if isinstance(decision, Split):
            first, second = decision.halves
            LOGGER.warning(
                f"{name}: export window {describe(window)} failed ({failure}); reading it again as "
                f"{describe(first)} and {describe(second)} without re-emitting records."
            )
            return [second, first]
        if isinstance(decision, Retry):
            LOGGER.warning(
                f"{name}: export window {describe(window)} failed ({failure}); asking the same window again in "
                f"{decision.delay:g} s."
            )
            self.sleep(decision.delay)
            return [window]
        raise self._gave_up(decision, failure)

    def _gave_up(self, decision: GiveUp, failure: WindowFailed) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=(
                f"Iterable's export of {self.sender.stream_name} (dataTypeName={self.sender.data_type}) failed "
                f"{decision.failures} times for the window {describe(decision.window)} UTC, already the smallest "
                f"window ({_hours(self.min_window)}): {failure}. No state was saved past this window; the next "
                "sync resumes here."
            ),
            internal_message=str(failure),
            failure_type=FailureType.transient_error,
        )

    def _stalled(
        self, window: Window, current: Window, deadline: ProgressDeadline, failure: WindowFailed
    ) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=(
                f"Iterable's export of {self.sender.stream_name} (dataTypeName={self.sender.data_type}) made no "
                f"progress on the window {describe(window)} UTC for {deadline.silent_for():.0f} s (limit "
                f"{self.stall_seconds:g} s); the last attempt, {describe(current)}, failed: {failure}. No state "
                "was saved past this window; the next sync resumes here."
            ),
            internal_message=f"export stalled: {failure}",
            failure_type=FailureType.transient_error,
        )


def _ignore(waited: float) -> None:
    """A probe's throttle wait: no deadline to tell."""


def _instant(value: Any) -> datetime | None:
    """A record time in any form Iterable sends (`2025-01-02 03:04:05 +00:00`, ISO 8601), or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(to_rfc3339(value))
    except ValueError:
        return None


def _hours(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    if seconds % 3600 == 0:
        return f"PT{seconds // 3600}H"
    return f"PT{seconds}S"
