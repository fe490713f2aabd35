"""The synchronous range reader: one range of one export stream read through `GET export/data.json` windows."""

import logging
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.export.data_json_request import ExportRequestSender
from source_iterable.export.jsonl import MalformedLineError, TruncatedBodyError
from source_iterable.export.planner import FailureKind, GiveUp, Retry, Split, WindowFailed, WindowPlanner
from source_iterable.export.reading import RangeProgress, WindowDone
from source_iterable.export.records import ExportRecords
from source_iterable.export.sizing import WindowSizer
from source_iterable.export.watchdog import ProgressWatchdog
from source_iterable.export.window import Window, describe
from source_iterable.instants import to_rfc3339

LOGGER = logging.getLogger("airbyte")
T = TypeVar("T")


@dataclass
class _Tally:
    """What one range cost through export/data.json, for its summary line (local to one read: readers are shared
    by the worker threads)."""

    requests: int = 0
    records: int = 0


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
      throttle waits excluded (`ProgressWatchdog`): with the export requester's read timeout this bounds a
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
    probe_requests: int = 16

    @property
    def min_window(self) -> timedelta:
        return self.sizer.min_window

    def read_range(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress
    ) -> Iterator[dict[str, Any] | WindowDone]:
        """The range's records and `WindowDone`s (`_read_range`), then one summary line: requests, records, seconds."""
        tally = _Tally()
        began = self.clock()
        for item in self._read_range(window, stream_slice, progress, tally):
            if not isinstance(item, WindowDone):
                tally.records += 1
            yield item
        LOGGER.info(
            f"{self.sender.stream_name}: read {describe(window)} with export/data.json: {tally.requests} requests, "
            f"{tally.records} records in {self.clock() - began:.1f} s."
        )

    def _read_range(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress, tally: "_Tally"
    ) -> Iterator[dict[str, Any] | WindowDone]:
        start, end = window
        name = self.sender.stream_name
        if end - start <= self.sizer.max_window:
            yield from self._read_window(window, stream_slice, progress, tally)
            yield WindowDone(window)
            return
        times = self._probe(window, stream_slice, tally)
        if times is not None:
            plan = self.sizer.plan(window, times)
            LOGGER.info(
                f"{name}: {len(times)} records in {describe(window)}; reading them in "
                f"{sum(1 for _, holds in plan if holds)} export requests: "
                + ", ".join(f"{describe(part)} ({holds})" for part, holds in plan if holds)
            )
            for part, holds in plan:
                if holds:
                    yield from self._read_window(part, stream_slice, progress, tally)
                yield WindowDone(part)
            return
        size = self.sizer.max_window
        while start < end:
            part = (start, min(end, start + size))
            count = 0
            for record in self._read_window(part, stream_slice, progress, tally):
                count += 1
                yield record
            yield WindowDone(part)
            size = self.sizer.next_size(part, count)
            start = part[1]

    def _probe(self, window: Window, stream_slice: StreamSlice, tally: "_Tally") -> Sequence[float] | None:
        """The sorted `time_field` of every record of `window` (POSIX seconds, 8 bytes a record: 16 MB at
        `probe_limit`), or None when the range cannot be planned from them.

        The probe is read like a window (`_attempts`: retried, split, bounded), keeping the times of a part only
        once its body was read whole, so a cut probe costs its halves, as a cut window does. A probe that needs
        more than `probe_requests` requests, a line that is not JSON, a record without a readable time, or more
        than `probe_limit` records gives up the plan: the range is then read in windows sized as they go (where
        a real problem with the data fails the stream with the window's own message)."""
        times: array[float] = array("d")
        try:
            parts = self._attempts(
                window, stream_slice, _NO_REPEATS, self._probe_body, tally, self.time_field, self.probe_requests
            )
            for part in parts:
                times.extend(part)
                if len(times) > self.probe_limit:
                    raise _Unplannable("too many records")
        except _Unplannable as reason:
            LOGGER.info(
                f"{self.sender.stream_name}: {describe(window)} holds {reason} to plan from; reading it in windows."
            )
            return None
        return array("d", sorted(times))

    def _probe_body(
        self, response: requests.Response, window: Window, stream_slice: StreamSlice
    ) -> Iterator[Sequence[float]]:
        """One probe body's times, yielded whole once the body ended: a cut body yields nothing."""
        times: array[float] = array("d")
        count = 0
        try:
            for line in self.records.decoder.decode(response):
                moment = _instant(line.get(self.time_field))
                if moment is None:
                    raise _Unplannable(f"a record without a readable {self.time_field}")
                times.append(moment.timestamp())
                count += 1
                if count > self.probe_limit:
                    raise _Unplannable("too many records")
        except MalformedLineError as error:
            raise _Unplannable(f"a line that is not a JSON object ({error.excerpt[:40]!r})") from error
        except (TruncatedBodyError, requests.exceptions.RequestException) as error:
            kind = FailureKind.BODY_CUT if count else FailureKind.BEFORE_BODY
            raise WindowFailed(kind, f"probe body cut after {count} records ({error.__class__.__name__})") from error
        finally:
            response.close()
        yield times

    def _read_window(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress, tally: "_Tally"
    ) -> Iterator[dict[str, Any]]:
        return self._attempts(window, stream_slice, progress, self._records_body, tally, None)

    def _records_body(
        self, response: requests.Response, window: Window, stream_slice: StreamSlice
    ) -> Iterator[dict[str, Any]]:
        return self.records.read(response, window, stream_slice, self.sender.data_type)

    def _attempts(
        self,
        window: Window,
        stream_slice: StreamSlice,
        progress: RangeProgress,
        body: Callable[[requests.Response, Window, StreamSlice], Iterator[T]],
        tally: "_Tally",
        only_field: str | None,
        max_requests: int | None = None,
    ) -> Iterator[T]:
        """Everything `body` makes of `window`'s answers: one request, then retries and splits as `WindowPlanner`
        decides, within the progress watchdog. `only_field`: ask only that field (a probe), in at most
        `max_requests` requests (else `_Unplannable`)."""
        planner = WindowPlanner(self.min_window, self.tries_per_window)
        watchdog = ProgressWatchdog(self.stall_seconds, self.clock)
        extra = {"onlyFields": only_field} if only_field else None
        pending = [window]
        failure: WindowFailed | None = None
        sent = 0
        while pending:
            current = pending.pop()
            if failure is not None and watchdog.expired():
                raise self._stalled(window, current, watchdog, failure)
            if max_requests is not None and sent >= max_requests:
                raise _Unplannable(f"no whole answer in {sent} requests (last: {failure})")
            sent += 1
            tally.requests += 1
            count = 0
            try:
                response = self.sender.send(current, stream_slice, watchdog.exclude, extra)
                for item in body(response, current, stream_slice):
                    count += 1
                    watchdog.progress()
                    yield item
                watchdog.progress()
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
        self, window: Window, current: Window, watchdog: ProgressWatchdog, failure: WindowFailed
    ) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=(
                f"Iterable's export of {self.sender.stream_name} (dataTypeName={self.sender.data_type}) made no "
                f"progress on the window {describe(window)} UTC for {watchdog.silent_for():.0f} s (limit "
                f"{self.stall_seconds:g} s); the last attempt, {describe(current)}, failed: {failure}. No state "
                "was saved past this window; the next sync resumes here."
            ),
            internal_message=f"export stalled: {failure}",
            failure_type=FailureType.transient_error,
        )


class _Unplannable(Exception):
    """A probe's answer cannot be planned from (a record without a readable time, too many records)."""


class _NoRepeats:
    """A probe's progress: its times are kept per whole body, so a re-read repeats nothing."""

    def expect_repeats(self) -> None:
        """Nothing to de-duplicate."""


_NO_REPEATS = _NoRepeats()


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
