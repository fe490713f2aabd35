"""One export range read end to end: the shared part (de-duplication, batching, cursor completion) of every path."""

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from airbyte_cdk.sources.declarative.decoders.decoder import Decoder
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import (
    InterpolatedString,
)
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.declarative.transformations.transformation import (
    RecordTransformation,
)
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import Config, Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from isodate import parse_duration  # type: ignore[import-untyped]

from source_iterable.components.cursor_checkpoint import SLICE_FORMAT, WindowCheckpoint
from source_iterable.components.export_data_json import DataJsonRangeReader, RangeReader, WindowDone
from source_iterable.components.export_jobs import JobsRangeReader, job_services
from source_iterable.components.export_mode import EXPORT_PATHS_KEY, JOBS
from source_iterable.components.export_plan import EmittedKeys, Window, WindowSizer, key_fields
from source_iterable.components.export_records import ExportRecords
from source_iterable.components.export_request import ExportRequestSender, api_key_of
from source_iterable.components.throttle import ExportThrottle, shared_throttle
from source_iterable.record_batch import DELIVERY, RecordBatcher

LOGGER = logging.getLogger("airbyte")


@dataclass
class ExportWindowRetriever(Retriever):
    """Read one cursor slice of an export stream and emit each record exactly once, even after re-reads.

    Why not `SimpleRetriever` (+ `request_window_splitting`): it splits only on an error-handler resolution of the
    *request*, re-emits the records already read, and a body dropped mid-stream is not retried at all; its
    `decoder`/`request_options_provider` are not propagated to a custom subclass either (cdk-notes §2).

    The work is split in small parts, each testable alone:
    - this class: per slice `[start_time, end_time]` (the cursor's inclusive bounds, `SLICE_FORMAT`) it asks a
      `RangeReader` for the range `[start_time, end_time + 1 s)` (Iterable's `endDateTime` is exclusive, so
      consecutive slices neither overlap nor leave out their last second), drops records already emitted
      (`EmittedKeys`, keyed by the primary key), batches, and completes the cursor;
    - `range_reader_for(window)`: which path reads a range: `DataJsonRangeReader` (synchronous
      `export/data.json`: `ExportRequestSender` sends and interprets one request, `ExportRecords` decodes and
      transforms the body, `WindowPlanner` decides retry/split/give-up), or `JobsRangeReader` (export_jobs.py:
      one export job for the range, `self.data_json` as its fallback) when the source chose export jobs for this
      stream in this sync (export_mode.py).

    The cursor's slice is the whole range to read (`export_windows` in the manifest: one slice per sync), and the
    reader plans the requests inside it. Checkpoints: at each `WindowDone` the reader yields, once every record
    before it has been handed on, the state moves to that window's end (`WindowCheckpoint`); at the end of the
    range, the cursor observes the range's exclusive end as the cursor value of the slice. So an empty range
    still moves the state, a killed sync resumes at the last completed window, and a window never completed never
    moves it. Records are emitted without an associated slice, so their own cursor values (which may lie beyond
    their window) cannot move the state. De-duplication keys are kept per window (a record belongs to the one
    window holding its creation time).
    Batching: when the console script turns batch delivery on (`record_batch.DELIVERY`), records leave in
    `RecordBatch`es of 1,000 instead of one `Record` each (the CDK's per-record handling costs more than reading
    a record), and a checkpoint waits until every batch before it has reached the main thread.
    """

    requester: HttpRequester
    decoder: Decoder
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    name: str = ""
    primary_key: str | list[str] | list[list[str]] | None = None
    data_type: str = ""
    fallback_data_type: str = ""
    requests_per_minute: int | str = 4
    # Iterable's export window and the throttle's safety margin (throttle.py); a test may scale time down.
    throttle_period: str = "PT60S"
    throttle_margin: str = "PT1S"
    min_window: str = "PT1H"
    # window_days: a range up to it is one request, a longer one is probed first (and, if it cannot be, read in
    # windows growing up to it); the records one planned request should carry at most; the field a probe asks
    # for (`onlyFields`) to plan the windows of a long range.
    max_window: str = "P30D"
    target_records_per_window: int | str = 500_000
    time_field: str = "createdAt"
    tries_per_window: int = 3
    stall_deadline: str = "PT5M"
    max_rate_limited_retries: int = 10
    transformations: list[RecordTransformation] = field(default_factory=list)
    cursor: Cursor | None = None
    api_budget: Any | None = None
    throttle: ExportThrottle | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        limit = int(self._eval(str(self.requests_per_minute), parameters))
        throttle = self.throttle or shared_throttle(
            self.api_budget or self,
            limit,
            _duration(self.throttle_period, "throttle_period").total_seconds(),
            _duration(self.throttle_margin, "throttle_margin").total_seconds(),
        )
        secret = api_key_of(self.config)
        # The requester is built by the factory without the retriever's decoder: make it stream the body.
        self.requester.stream_response = self.decoder.is_stream_response()
        self.data_json = DataJsonRangeReader(
            sender=ExportRequestSender(
                requester=self.requester,
                throttle=throttle,
                stream_name=self.name,
                data_type=self._eval(self.data_type, parameters),
                fallback_data_type=self._eval(self.fallback_data_type, parameters),
                max_rate_limited_retries=self.max_rate_limited_retries,
                secret=secret,
            ),
            records=ExportRecords(
                decoder=self.decoder,
                config=self.config,
                stream_name=self.name,
                transformations=self.transformations,
                secret=secret,
            ),
            sizer=WindowSizer(
                max_window=_duration(self._eval(self.max_window, parameters), "max_window"),
                min_window=_duration(self.min_window, "min_window"),
                target_records=int(self._eval(str(self.target_records_per_window), parameters)),
            ),
            time_field=self.time_field,
            tries_per_window=self.tries_per_window,
            stall_seconds=_duration(self.stall_deadline, "stall_deadline").total_seconds(),
            clock=self.clock,
            sleep=self.sleep,
        )
        self._key_fields = key_fields(self.primary_key)
        # The source chose this stream's path for the sync (export_mode.py).
        self.jobs: RangeReader | None = None
        if self.config.get(EXPORT_PATHS_KEY, {}).get(self.name) == JOBS:
            self.jobs = JobsRangeReader(
                stream=self.name,
                services=job_services(self.config),
                records=self.data_json.records,
                data_json=self.data_json,
                data_type=self.data_json.sender.data_type,
                fallback_data_type=self.data_json.sender.fallback_data_type,
            )

    def _eval(self, value: str, parameters: Mapping[str, Any]) -> str:
        return str(InterpolatedString.create(value, parameters=parameters).eval(self.config) or "")

    def range_reader_for(self, window: Window) -> RangeReader:
        """The path that reads `window`: export jobs when the source chose them for this stream, else data.json."""
        return self.jobs or self.data_json

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        if stream_slice is None:
            raise ValueError(f"{self.name}: the export retriever reads one cursor slice at a time")
        start = _parse_slice_bound(stream_slice["start_time"])
        end = _parse_slice_bound(stream_slice["end_time"]) + timedelta(seconds=1)
        keys = EmittedKeys(self._key_fields)
        checkpoint = WindowCheckpoint(self.cursor, self.name, stream_slice)
        batcher = RecordBatcher(self.name) if DELIVERY.enabled else None
        done_until = start
        try:
            for item in self.range_reader_for((start, end)).read_range((start, end), stream_slice, keys):
                if isinstance(item, WindowDone):
                    # Only a window that extends the completed prefix moves the state (a reader reading parts of
                    # the range out of order must not move it past a part not read yet); the range's end is
                    # completed below, as the slice's own.
                    if not item.window[0] <= done_until < item.window[1] < end:
                        continue
                    done_until = item.window[1]
                    if batcher is not None:
                        if (batch := batcher.flush()) is not None:
                            yield batch
                        batcher.wait_until_delivered()
                    checkpoint.complete(start, done_until)
                    keys.reset()
                elif not keys.first_time(item):
                    continue
                elif batcher is None:
                    yield Record(data=item, stream_name=self.name, associated_slice=None)
                elif (batch := batcher.add(item)) is not None:
                    yield batch
        except AirbyteTracedException:
            if batcher is not None and (batch := batcher.flush()) is not None:
                yield batch  # the records read before the failure go out, as they would one by one
            raise
        if batcher is not None:
            if (batch := batcher.flush()) is not None:
                yield batch
            batcher.wait_until_delivered()
        self._complete(stream_slice, end)

    def _complete(self, stream_slice: StreamSlice, end: datetime) -> None:
        cursor = self.cursor
        cursor_field = getattr(cursor, "cursor_field", None)
        if cursor is None or cursor_field is None:
            return
        cursor.observe(
            Record(
                data={cursor_field.cursor_field_key: end.strftime(SLICE_FORMAT)},
                stream_name=self.name,
                associated_slice=stream_slice,
            )
        )


def _parse_slice_bound(value: str) -> datetime:
    return datetime.strptime(value, SLICE_FORMAT).replace(tzinfo=UTC)


def _duration(value: str, name: str) -> timedelta:
    parsed = parse_duration(value)
    if not isinstance(parsed, timedelta):
        raise TypeError(f"{name} must be a duration in days, hours, minutes or seconds, got {value}")
    return parsed
