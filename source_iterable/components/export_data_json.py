"""The synchronous range reader: one range of one export stream read through `GET export/data.json` windows."""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

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
    describe,
)
from source_iterable.components.export_records import ExportRecords
from source_iterable.components.export_request import ExportRequestSender

LOGGER = logging.getLogger("airbyte")


class RangeProgress(Protocol):
    """What a range reader tells the retriever while it reads (implemented by `export_plan.EmittedKeys`)."""

    def expect_repeats(self) -> None:
        """Records already yielded may come again (a window is being re-read): de-duplicate from now on."""


class RangeReader(Protocol):
    """Reads one range `[start, end)` of one export stream; the seam every export path plugs into.

    `read_range` yields the range's records, transformed (see `ExportRecords`), in any order. A record may be
    yielded twice only after `progress.expect_repeats()`: the caller (`ExportWindowRetriever`) drops repeats,
    batches, and completes the cursor once the generator ends. A range that cannot be read raises an
    `AirbyteTracedException` naming the stream, the range and the cause; nothing is completed then.
    """

    def read_range(self, window: Window, stream_slice: StreamSlice, progress: RangeProgress) -> Iterator[dict[str, Any]]:
        """Yield every record of `window`; raise `AirbyteTracedException` when it cannot be read."""
        ...


@dataclass
class DataJsonRangeReader:
    """A range through `export/data.json`: one request for the range, retried or split as `WindowPlanner` decides.

    Each attempt goes through `ExportRequestSender` (throttle slot, status) and `ExportRecords` (JSONL body). The
    range fails when the planner gives up, or when it made no progress (no record, no window completed) for
    `stall_seconds`, throttle waits excluded (`ProgressDeadline`): with the export requester's read timeout
    this bounds a stalled export (no headers, a body that stops) to about `stall_seconds` + one read timeout.
    """

    sender: ExportRequestSender
    records: ExportRecords
    min_window: timedelta
    tries_per_window: int
    stall_seconds: float
    clock: Callable[[], float]
    sleep: Callable[[float], None]

    def read_range(self, window: Window, stream_slice: StreamSlice, progress: RangeProgress) -> Iterator[dict[str, Any]]:
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


def _hours(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    if seconds % 3600 == 0:
        return f"PT{seconds // 3600}H"
    return f"PT{seconds}S"
