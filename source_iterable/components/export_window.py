"""One export window read end to end: paced, streamed, split in half and re-read when the body is cut."""

import logging
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import orjson
import requests
from airbyte_cdk.models import FailureType
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
from airbyte_cdk.sources.streams.http.exceptions import BaseBackoffException
from airbyte_cdk.sources.types import Config, Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from isodate import parse_duration  # type: ignore[import-untyped]

from source_iterable.components.export_jobs import JobRangeReader, job_services
from source_iterable.components.export_mode import EXPORT_PATHS_KEY, JOBS
from source_iterable.components.jsonl import MalformedLineError, TruncatedBodyError
from source_iterable.components.throttle import ExportThrottle, shared_throttle
from source_iterable.record_batch import DELIVERY, RecordBatcher

LOGGER = logging.getLogger("airbyte")

# The cursor's `datetime_format` in the manifest: slices arrive, and state is written, in this form.
SLICE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# startDateTime/endDateTime as Iterable documents them (no offset = UTC).
REQUEST_FORMAT = "%Y-%m-%d %H:%M:%S"

_CUT_BODY_ERRORS = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    TruncatedBodyError,
)
Window = tuple[datetime, datetime]


class _WindowFailed(Exception):
    """The window's request or body failed in a way worth retrying (cut body, timeout, 5xx)."""


def _format(moment: datetime, pattern: str) -> str:
    return moment.strftime(pattern)


def _describe(window: Window) -> str:
    return f"[{_format(window[0], REQUEST_FORMAT)}, {_format(window[1], REQUEST_FORMAT)})"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _iterable_message(response: requests.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text[:200]
    if isinstance(body, dict):
        return f"{body.get('code')}: {body.get('msg')}"
    return str(body)[:200]


@dataclass
class ExportWindowRetriever(Retriever):
    """Read one cursor slice of `GET export/data.json` and emit each record exactly once, even after a cut body.

    Why not `SimpleRetriever` (+ `request_window_splitting`): it splits only on an error-handler resolution of the
    *request*, re-emits the records already read, and a body dropped mid-stream is not retried at all; its
    `decoder`/`request_options_provider` are not propagated to a custom subclass either (cdk-notes §2).

    Per slice `[start_time, end_time]` (the cursor's inclusive bounds, `SLICE_FORMAT`):
    1. the window sent is `[start_time, end_time + 1 s)`: Iterable's `endDateTime` is exclusive, so consecutive
       slices neither overlap nor leave out their last second;
    2. every attempt first takes a slot of the process-wide `ExportThrottle` (all export streams share it:
       `export_requests_per_minute` in any 60 s); a 429 pauses the throttle for `Retry-After` (else 60 s) and the
       same window is asked again, up to `max_rate_limited_retries` times in a row;
    3. the body is decoded line by line (`decoder`, strict JSONL) and transformed (`transformations`, the stream's);
    4. when the request fails (connection error, timeout), the body is cut (connection dropped, read timeout,
       truncated last line) or the answer is a 5xx, the window is split in two halves at the second and both are read, oldest first, recursively, down to
       `min_window`; a window that small is retried up to `attempts_per_minimal_window` times, then the sync fails;
    5. no record is emitted twice: the primary key of every emitted record is remembered as a 64-bit hash
       (`array('q')`, 8 bytes per record, the cheap path taken by every window); after the first failure the
       hashes become a set (about 60 bytes per record, only for that window) and re-read records whose hash is in
       it are skipped. A record without a primary key value is keyed by a hash of its whole content. Two
       different records with colliding 64-bit hashes (odds ~n²/2⁶⁵, 3·10⁻⁶ for ten million records in one
       failed window) would lose the later one: accepted for the memory saved;
    6. when the whole window is emitted, the cursor observes the window's exclusive end as the cursor value of
       the slice, so the stream state becomes the end of the contiguous completed windows: an empty window still
       moves the state, and a window never completed never does. Records are emitted without an associated
       slice, so their own cursor values (which may lie beyond the window) cannot move the state.
    7. when the console script turns batch delivery on (`record_batch.DELIVERY`), records leave in
       `RecordBatch`es of 1,000 instead of one `Record` each (the CDK's per-record handling costs more than reading
       a record), and the cursor observes the window's end only once every batch has reached the main thread.
    A complete line that is not JSON fails the sync naming the stream, window and line (never skipped). A 400 on
    a stream with `fallback_data_type` (the unsubscribe spelling) switches to that spelling for the rest of the
    process.
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
    min_window: str = "PT1H"
    attempts_per_minimal_window: int = 3
    max_rate_limited_retries: int = 10
    transformations: list[RecordTransformation] = field(default_factory=list)
    cursor: Cursor | None = None
    api_budget: Any | None = None
    throttle: ExportThrottle | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        parameters = parameters or {}
        self._data_type = self._eval(self.data_type, parameters)
        self._fallback = self._eval(self.fallback_data_type, parameters)
        limit = int(self._eval(str(self.requests_per_minute), parameters))
        self._throttle = self.throttle or shared_throttle(self.api_budget or self, limit)
        self._min_window = _duration(self.min_window)
        key = self.primary_key
        self._key_fields: tuple[str, ...] = (key,) if isinstance(key, str) else tuple(str(part) for part in key or ())
        # The requester is built by the factory without the retriever's decoder: make it stream the body.
        self.requester.stream_response = self.decoder.is_stream_response()

    def _eval(self, value: str, parameters: Mapping[str, Any]) -> str:
        return str(InterpolatedString.create(value, parameters=parameters).eval(self.config) or "")

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        if stream_slice is None:
            raise ValueError(f"{self.name}: the export retriever reads one cursor slice at a time")
        start = _parse_slice_bound(stream_slice["start_time"])
        end = _parse_slice_bound(stream_slice["end_time"]) + timedelta(seconds=1)
        emitted: array[int] = array("q")
        seen: set[int] | None = None
        attempts: dict[Window, int] = {}
        pending: list[Window] = [(start, end)]
        batcher = RecordBatcher(self.name) if DELIVERY.enabled else None
        overlap = [False]
        try:
            while pending:
                window = pending.pop()
                count = 0
                try:
                    for record in self._records(window, stream_slice, overlap):
                        if overlap[0] and seen is None:
                            seen = set(emitted)
                            emitted = array("q")
                        key = self._key_of(record)
                        if seen is None:
                            emitted.append(key)
                        elif key in seen:
                            continue
                        else:
                            seen.add(key)
                        count += 1
                        if batcher is None:
                            yield Record(data=record, stream_name=self.name, associated_slice=None)
                        elif (batch := batcher.add(record)) is not None:
                            yield batch
                except _WindowFailed as failure:
                    if seen is None:
                        seen = set(emitted)
                        emitted = array("q")
                    pending.extend(reversed(self._retry_plan(window, attempts, count, failure)))
        except AirbyteTracedException:
            if batcher is not None and (batch := batcher.flush()) is not None:
                yield batch  # the records read before the failure go out, as they would one by one
            raise
        if batcher is not None:
            if (batch := batcher.flush()) is not None:
                yield batch
            batcher.wait_until_delivered()
        self._complete(stream_slice, end)

    def _records(self, window: Window, stream_slice: StreamSlice, overlap: list[bool]) -> Iterable[dict[str, Any]]:
        if self.config.get(EXPORT_PATHS_KEY, {}).get(self.name) != JOBS:
            return self._read_window(window, stream_slice)
        services = job_services(self.config)
        reader = JobRangeReader(
            stream=self.name,
            data_type=self._data_type,
            client=services.client,
            fetcher=services.fetcher,
            slots=services.slots,
            records_of=lambda response: self._transformed(response, stream_slice),
        )

        def fallback(range_: Window) -> Iterable[dict[str, Any]]:
            step = timedelta(days=int(self.config.get("window_days", 30)))
            cursor = range_[0]
            while cursor < range_[1]:
                yield from self._read_window((cursor, min(cursor + step, range_[1])), stream_slice)
                cursor += step

        def on_overlap() -> None:
            overlap[0] = True

        return reader.read(window, on_overlap, fallback)

    def _transformed(self, response: requests.Response, stream_slice: StreamSlice) -> Iterable[dict[str, Any]]:
        for decoded in self.decoder.decode(response):
            record = cast(dict[str, Any], decoded)
            for transformation in self.transformations:
                transformation.transform(record, config=self.config, stream_slice=stream_slice)
            yield record

    def _key_of(self, record: Mapping[str, Any]) -> int:
        fields = self._key_fields
        if len(fields) == 1:
            value = record.get(fields[0])
            if value is not None:
                return hash(value)
        elif fields:
            values = tuple(record.get(name) for name in fields)
            if all(value is not None for value in values):
                return hash(values)
        return hash(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))

    def _retry_plan(self, window: Window, attempts: dict[Window, int], count: int, failure: Exception) -> list[Window]:
        start, end = window
        if end - start >= 2 * self._min_window:
            middle = start + timedelta(seconds=int((end - start).total_seconds()) // 2)
            halves = [(start, middle), (middle, end)]
            LOGGER.warning(
                f"{self.name}: export window {_describe(window)} failed after {count} records ({failure}); "
                f"reading it again as {_describe(halves[0])} and {_describe(halves[1])} without re-emitting records."
            )
            return halves
        attempts[window] = attempts.get(window, 1) + 1
        if attempts[window] > self.attempts_per_minimal_window:
            raise AirbyteTracedException(
                message=(
                    f"Iterable's export of {self.name} (dataTypeName={self._data_type}) failed "
                    f"{self.attempts_per_minimal_window} times for the window {_describe(window)} UTC, already the "
                    f"smallest window ({self.min_window}): {failure}. No state was saved past this window; the next "
                    "sync resumes here."
                ),
                internal_message=str(failure),
                failure_type=FailureType.transient_error,
            )
        LOGGER.warning(f"{self.name}: export window {_describe(window)} failed ({failure}); retrying it.")
        return [window]

    def _read_window(self, window: Window, stream_slice: StreamSlice) -> Iterable[dict[str, Any]]:
        response = self._send(window, stream_slice)
        transformations = self.transformations
        config = self.config
        try:
            for decoded in self.decoder.decode(response):
                record = cast(dict[str, Any], decoded)
                for transformation in transformations:
                    transformation.transform(record, config=config, stream_slice=stream_slice)
                yield record
        except MalformedLineError as error:
            raise AirbyteTracedException(
                message=(
                    f"Iterable's export of {self.name} (dataTypeName={self._data_type}) for the window "
                    f"{_describe(window)} UTC returned line {error.line_number} that is not a JSON object: "
                    f"{error.excerpt!r}. The sync stops rather than skip data; if this repeats, report it to Iterable."
                ),
                internal_message=str(error),
                failure_type=FailureType.system_error,
            ) from error
        except _CUT_BODY_ERRORS as error:
            raise _WindowFailed(f"body cut: {error.__class__.__name__}") from error
        finally:
            response.close()

    def _send(self, window: Window, stream_slice: StreamSlice) -> requests.Response:
        rate_limited = 0
        while True:
            params = {
                "dataTypeName": self._data_type,
                "startDateTime": _format(window[0], REQUEST_FORMAT),
                "endDateTime": _format(window[1], REQUEST_FORMAT),
            }
            self._throttle.acquire()
            try:
                response = self.requester.send_request(stream_slice=stream_slice, request_params=params)
            except AirbyteTracedException as error:
                # The HTTP client (max_retries 0) gives up at once on a connection error or timeout and raises
                # from its BaseBackoffException: that is a failed attempt of this window, not a failed sync.
                if error.failure_type == FailureType.transient_error or isinstance(error.__context__, BaseBackoffException):
                    raise _WindowFailed(f"request failed: {error.__context__ or error.message}") from error
                raise
            except _CUT_BODY_ERRORS as error:
                raise _WindowFailed(f"request failed: {error.__class__.__name__}") from error
            if response is None:
                raise _WindowFailed("no response")
            status = response.status_code
            if status < 300:
                return response
            message = _iterable_message(response)
            response.close()
            if status == 429:
                rate_limited += 1
                if rate_limited > self.max_rate_limited_retries:
                    raise AirbyteTracedException(
                        message=(
                            f"Iterable kept answering 429 (rate limit) to the export of {self.name} "
                            f"{rate_limited} times in a row: {message}. Another client may be "
                            "using the same project's export API; lower export_requests_per_minute or retry later."
                        ),
                        internal_message=f"HTTP 429 x{rate_limited} on export/data.json for {self.name}",
                        failure_type=FailureType.transient_error,
                    )
                self._throttle.rate_limited(_retry_after(response))
                continue
            if status >= 500:
                raise _WindowFailed(f"HTTP {status} {message}")
            if status == 400 and self._fallback and self._data_type != self._fallback:
                LOGGER.warning(
                    f"{self.name}: Iterable rejected dataTypeName={self._data_type} ({message}); "
                    f"using the spelling {self._fallback} from now on."
                )
                self._data_type = self._fallback
                continue
            raise AirbyteTracedException(
                message=(
                    f"Iterable refused the export of {self.name} (dataTypeName={self._data_type}, window "
                    f"{_describe(window)} UTC) with HTTP {status}: {message}."
                ),
                internal_message=f"HTTP {status} on export/data.json for {self.name}",
                failure_type=FailureType.system_error,
            )

    def _complete(self, stream_slice: StreamSlice, end: datetime) -> None:
        cursor = self.cursor
        cursor_field = getattr(cursor, "cursor_field", None)
        if cursor is None or cursor_field is None:
            return
        cursor.observe(
            Record(
                data={cursor_field.cursor_field_key: _format(end, SLICE_FORMAT)},
                stream_name=self.name,
                associated_slice=stream_slice,
            )
        )


def _parse_slice_bound(value: str) -> datetime:
    return datetime.strptime(value, SLICE_FORMAT).replace(tzinfo=UTC)


def _duration(value: str) -> timedelta:
    parsed = parse_duration(value)
    if not isinstance(parsed, timedelta):
        raise TypeError(f"min_window must be a duration in days, hours or minutes, got {value}")
    return parsed
