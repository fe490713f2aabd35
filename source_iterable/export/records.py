"""An export body turned into the stream's records: strict JSONL decoding, then the stream's transformations.

Shared by every range reader (a `data.json` response, an export job's file), so a record is byte-identical
whichever path produced it. Failures come out typed: a body cut after records is `WindowFailed(BODY_CUT)` (one
cut before any record, `BEFORE_BODY`), a read timeout `WindowFailed(READ_TIMEOUT)`; a body that is not JSONL is
`NotJsonl`; a complete line that is not a JSON object after records fails the stream.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.decoders.decoder import Decoder
from airbyte_cdk.sources.declarative.transformations.transformation import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from urllib3.exceptions import ReadTimeoutError

from source_iterable.export.jsonl import LineTooLong, MalformedLineError, TruncatedBodyError
from source_iterable.export.planner import FailureKind, WindowFailed
from source_iterable.export.window import Window, describe
from source_iterable.request_policy import excerpt, mask

CUT_BODY_ERRORS = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    TruncatedBodyError,
)


class NotJsonl(AirbyteTracedException):
    """A 2xx export body that is not JSON lines at all (an HTML page, XML, gzip bytes without Content-Encoding).

    Worded for `export/data.json`, where it fails the stream; the jobs path catches it and reads the file again."""

    def __init__(self, stream_name: str, data_type: str, window: Window, content_type: str, start: str) -> None:
        self.content_type = content_type or "none"
        self.start = start
        super().__init__(
            message=(
                f"Iterable's export/data.json answered the export of {stream_name} (dataTypeName={data_type}, "
                f"window {describe(window)} UTC) with a body that is not JSONL (Content-Type: {self.content_type}), "
                f"starting {start!r}. A proxy or an outage page may stand between the connector and Iterable; no "
                "state was saved past this window."
            ),
            internal_message=f"not JSONL from export/data.json for {stream_name}",
            failure_type=FailureType.system_error,
        )


def line_too_long(stream_name: str, data_type: str, source: str, error: LineTooLong) -> AirbyteTracedException:
    """The stream's error when one record's line is longer than the connector writes (bounds.MAX_RECORD_LINE_BYTES)."""
    return AirbyteTracedException(
        message=(
            f"Iterable's export of {stream_name} (dataTypeName={data_type}) for {source} has a record longer than "
            f"{_size(error.limit)} (line {error.line_number}: {error.size} bytes read of it), the longest record this "
            "connector writes. The stream stops here, with no state past this range; "
            "leave this stream out of the sync, or ask Iterable why one record is this large."
        ),
        internal_message=str(error),
        failure_type=FailureType.system_error,
    )


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 and limit % (1 << 20) == 0 else f"{limit} bytes"


def is_read_timeout(error: BaseException) -> bool:
    """requests raises a read timeout inside a streamed body as a ConnectionError wrapping urllib3's."""
    if isinstance(error, requests.exceptions.ReadTimeout):
        return True
    return isinstance(error, requests.exceptions.ConnectionError) and any(
        isinstance(argument, ReadTimeoutError) for argument in error.args
    )


@dataclass
class ExportRecords:
    """Decode one export body and transform each record, as the stream's manifest says (`decoder`, `transformations`)."""

    decoder: Decoder
    config: Config
    stream_name: str
    transformations: list[RecordTransformation] = field(default_factory=list)
    secret: str = ""

    def transformed(self, response: requests.Response, stream_slice: StreamSlice) -> Iterator[dict[str, Any]]:
        """The body's records, decoded and transformed; the decoder's and the connection's errors as they come."""
        transformations = self.transformations
        config = self.config
        for decoded in self.decoder.decode(response):
            record = cast(dict[str, Any], decoded)
            for transformation in transformations:
                transformation.transform(record, config=config, stream_slice=stream_slice)
            yield record

    def read(
        self, response: requests.Response, window: Window, stream_slice: StreamSlice, data_type: str
    ) -> Iterator[dict[str, Any]]:
        """An export/data.json body's records; `window` and `data_type` only name what was asked in messages."""
        transformations = self.transformations
        config = self.config
        count = 0
        try:
            # The loop of `transformed`, inline: one generator less per record on the hot path.
            for decoded in self.decoder.decode(response):
                record = cast(dict[str, Any], decoded)
                for transformation in transformations:
                    transformation.transform(record, config=config, stream_slice=stream_slice)
                count += 1
                yield record
        except LineTooLong as error:
            raise line_too_long(self.stream_name, data_type, f"the window {describe(window)} UTC", error) from None
        except MalformedLineError as error:
            if count == 0:
                raise self._not_jsonl(response, window, data_type, error.head) from error
            raise AirbyteTracedException(
                message=(
                    f"Iterable's export of {self.stream_name} (dataTypeName={data_type}) for the window "
                    f"{describe(window)} UTC returned line {error.line_number} that is not a JSON object: "
                    f"{mask(error.excerpt, self.secret)!r}. The sync stops rather than skip data; if this repeats, "
                    "report it to Iterable."
                ),
                internal_message=mask(str(error), self.secret),
                failure_type=FailureType.system_error,
            ) from error
        except TruncatedBodyError as error:
            if count == 0 and not error.starts_like_json:
                raise self._not_jsonl(response, window, data_type, error.head) from error
            raise self._cut(count, error) from error
        except CUT_BODY_ERRORS as error:
            if is_read_timeout(error):
                raise WindowFailed(FailureKind.READ_TIMEOUT, f"body silent after {count} records") from error
            raise self._cut(count, error) from error
        finally:
            response.close()

    @staticmethod
    def _cut(count: int, error: Exception) -> WindowFailed:
        kind = FailureKind.BODY_CUT if count else FailureKind.BEFORE_BODY
        return WindowFailed(kind, f"body cut after {count} records ({error.__class__.__name__})")

    def _not_jsonl(self, response: requests.Response, window: Window, data_type: str, start: bytes) -> NotJsonl:
        content_type = response.headers.get("Content-Type", "")
        return NotJsonl(self.stream_name, data_type, window, content_type, excerpt(start, self.secret))
