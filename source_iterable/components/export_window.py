"""The manifest's export retriever: one cursor slice of an export stream, read by the export engine (export/)."""

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import timedelta
from typing import Any

from airbyte_cdk.sources.declarative.decoders.decoder import Decoder
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.declarative.transformations.transformation import RecordTransformation
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import Config, Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from isodate import parse_duration  # type: ignore[import-untyped]

from source_iterable.bounds import EXPORT_WINDOW_TRIES, NO_PROGRESS_SECONDS, RATE_LIMITED_TRIES
from source_iterable.components.event_names import EventNameFilter
from source_iterable.export.batching import RecordBatcher
from source_iterable.export.checkpoint import WindowCheckpoint, observe_cursor_end
from source_iterable.export.data_json import DataJsonRangeReader
from source_iterable.export.data_json_request import ExportRequestSender
from source_iterable.export.jsonl import StrictJsonlDecoder
from source_iterable.export.keys import EmittedKeys, key_fields
from source_iterable.export.orchestrator import ExportOrchestrator
from source_iterable.export.pacing import ExportThrottle
from source_iterable.export.paths import JOBS
from source_iterable.export.reading import WindowDone
from source_iterable.export.records import ExportRecords
from source_iterable.export.runtime import SyncRuntime, sync_runtime
from source_iterable.export.sizing import WindowSizer
from source_iterable.export.window import SLICE_FORMAT, parse_slice_bound

LOGGER = logging.getLogger("airbyte")


@dataclass
class ExportWindowRetriever(Retriever):
    """Read one cursor slice of an export stream and emit each record exactly once, even after re-reads.

    Why not `SimpleRetriever` (+ `request_window_splitting`): it splits only on an error-handler resolution of the
    *request*, re-emits the records already read, and a body dropped mid-stream is not retried at all; its
    `decoder`/`request_options_provider` are not propagated to a custom subclass either (cdk-notes §2).

    Per slice `[start_time, end_time]` (the cursor's inclusive bounds, `SLICE_FORMAT`) it asks the stream's
    `ExportOrchestrator` (export/orchestrator.py: export jobs or export/data.json windows, as the source chose for
    this sync) for the range `[start_time, end_time + 1 s)` (Iterable's `endDateTime` is exclusive, so consecutive
    slices neither overlap nor leave out their last second), drops records already emitted (`EmittedKeys`, keyed by
    the primary key), batches (when the sync's runtime says so, export/batching.py), and moves the state:
    at each `WindowDone` the reader yields, once every record before it has been handed on, to that window's end
    (`WindowCheckpoint`); at the end of the range, to the range's exclusive end, so an empty range still moves the
    state, a killed sync resumes at the last completed window, and a window never completed never moves it.
    Records are emitted without an associated slice, so their own cursor values (which may lie beyond their
    window) cannot move the state. De-duplication keys are kept per window (a record belongs to the one window
    holding its creation time). Everything the export streams share (throttle, job budget and slots, paths,
    batching) is the sync's `SyncRuntime` (export/runtime.py).
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
    # Iterable's export window and the throttle's safety margin (export/pacing.py); a test may scale time down.
    throttle_period: str = "PT60S"
    throttle_margin: str = "PT1S"
    min_window: str = "PT1H"
    # window_days: a range up to it is one request, a longer one is probed first (and, if it cannot be, read in
    # windows growing up to it); the records one planned request should carry at most; the field a probe asks
    # for (`onlyFields`) to plan the windows of a long range.
    max_window: str = "P30D"
    target_records_per_window: int | str = 500_000
    time_field: str = "createdAt"
    tries_per_window: int = EXPORT_WINDOW_TRIES
    stall_deadline: str = f"PT{NO_PROGRESS_SECONDS:.0f}S"
    max_rate_limited_retries: int = RATE_LIMITED_TRIES - 1
    transformations: list[RecordTransformation] = field(default_factory=list)
    # Records the stream keeps (custom_event: custom_event_names); all when unset.
    record_filter: EventNameFilter | None = None
    # GET channels: asked once when the export API refuses the key, to tell a wrong key from one that cannot export.
    key_probe: Requester | None = None
    cursor: Cursor | None = None
    throttle: ExportThrottle | None = None
    runtime: SyncRuntime | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        self._runtime = self.runtime or sync_runtime()
        if self.key_probe is not None and self._runtime.refused_key.probe is None:
            self._runtime.refused_key.probe = self.key_probe
        throttle = self.throttle or self._runtime.export_throttle(
            int(self._eval(str(self.requests_per_minute), parameters)),
            _duration(self.throttle_period, "throttle_period").total_seconds(),
            _duration(self.throttle_margin, "throttle_margin").total_seconds(),
        )
        secret = str(self.config.get("api_key") or "").strip()
        # The requester is built by the factory without the retriever's decoder: make it stream the body.
        self.requester.stream_response = self.decoder.is_stream_response()
        self._min_window = _duration(self.min_window, "min_window")
        self._records = ExportRecords(
            decoder=self.decoder,
            config=self.config,
            stream_name=self.name,
            transformations=self.transformations,
            secret=secret,
        )
        self.data_json = DataJsonRangeReader(
            sender=ExportRequestSender(
                requester=self.requester,
                throttle=throttle,
                stream_name=self.name,
                data_type=self._eval(self.data_type, parameters),
                fallback_data_type=self._eval(self.fallback_data_type, parameters),
                max_rate_limited_retries=self.max_rate_limited_retries,
                secret=secret,
                refused=self._runtime.refused_key.error,
            ),
            records=self._records,
            sizer=WindowSizer(
                max_window=_duration(self._eval(self.max_window, parameters), "max_window"),
                min_window=self._min_window,
                target_records=int(self._eval(str(self.target_records_per_window), parameters)),
            ),
            time_field=self.time_field,
            tries_per_window=self.tries_per_window,
            stall_seconds=_duration(self.stall_deadline, "stall_deadline").total_seconds(),
            clock=self.clock,
            sleep=self.sleep,
        )
        self._key_fields = key_fields(self.primary_key)

    def _eval(self, value: str, parameters: Mapping[str, Any]) -> str:
        return str(InterpolatedString.create(value, parameters=parameters).eval(self.config) or "")

    def orchestrator(self) -> ExportOrchestrator:
        """This stream's ranges in this sync: through export jobs when the source chose them (export/paths.py)."""
        jobs = self._runtime.job_services(self.config) if self._runtime.path_of(self.name) == JOBS else None
        return ExportOrchestrator(
            stream=self.name,
            data_json=self.data_json,
            records=self._records,
            data_type=self.data_json.sender.data_type,
            fallback_data_type=self.data_json.sender.fallback_data_type,
            jobs=jobs,
            min_window=self._min_window,
            clock=self.clock,
            sleep=self.sleep,
        )

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        if stream_slice is None:
            raise ValueError(f"{self.name}: the export retriever reads one cursor slice at a time")
        start = parse_slice_bound(stream_slice["start_time"])
        end = parse_slice_bound(stream_slice["end_time"]) + timedelta(seconds=1)
        keys = EmittedKeys(self._key_fields)
        checkpoint = WindowCheckpoint(self.cursor, self.name, stream_slice)
        batcher = RecordBatcher(self.name) if self._runtime.batch_records else None
        decoder = self.decoder if isinstance(self.decoder, StrictJsonlDecoder) else None
        decoded = decoder.bytes_decoded if decoder is not None else 0
        keep = self.record_filter.keeps if self.record_filter is not None else None
        done_until = start
        try:
            for item in self.orchestrator().read_range((start, end), stream_slice, keys):
                if isinstance(item, WindowDone):
                    # Only a window that extends the completed prefix moves the state (a reader reading parts of
                    # the range out of order must not move it past a part not read yet); the range's end is
                    # completed below, as the slice's own.
                    if not item.window[0] <= done_until < item.window[1] < end:
                        continue
                    done_until = item.window[1]
                    yield from _delivered(batcher)
                    checkpoint.complete(start, done_until)
                    keys.reset()
                elif (keep is not None and not keep(item)) or not keys.first_time(item):
                    continue
                elif batcher is None:
                    yield Record(data=item, stream_name=self.name, associated_slice=None)
                else:
                    before, decoded = decoded, decoder.bytes_decoded if decoder is not None else 0
                    if (batch := batcher.add(item, decoded - before)) is not None:
                        yield batch
        except AirbyteTracedException:
            if batcher is not None and (batch := batcher.flush()) is not None:
                yield batch  # the records read before the failure go out, as they would one by one
            raise
        yield from _delivered(batcher)
        observe_cursor_end(self.cursor, self.name, stream_slice, end.strftime(SLICE_FORMAT))


def _delivered(batcher: RecordBatcher | None) -> Iterable[StreamData]:
    """The batch being filled, then a wait until every batch reached the main thread (before the state moves)."""
    if batcher is None:
        return
    if (batch := batcher.flush()) is not None:
        yield batch
    batcher.wait_until_delivered()


def _duration(value: str, name: str) -> timedelta:
    parsed = parse_duration(value)
    if not isinstance(parsed, timedelta):
        raise TypeError(f"{name} must be a duration in days, hours, minutes or seconds, got {value}")
    return parsed
