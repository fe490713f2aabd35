"""An export body turned into the stream's records: strict JSONL decoding, then the stream's transformations.

Shared by every range reader (a `data.json` response, an export job's file), so a record is byte-identical
whichever path produced it. Failures come out typed: a body cut after records is `WindowFailed(BODY_CUT)` (one
cut before any record, `BEFORE_BODY`), a read timeout `WindowFailed(READ_TIMEOUT)`; a body that is not JSONL or
a complete line that is not a JSON object fails the stream.
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

from source_iterable.components.export_plan import FailureKind, Window, WindowFailed, describe
from source_iterable.components.export_request import mask, not_jsonl
from source_iterable.components.jsonl import MalformedLineError, TruncatedBodyError

_CUT_BODY_ERRORS = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    TruncatedBodyError,
)


def _is_read_timeout(error: BaseException) -> bool:
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

    def read(
        self, response: requests.Response, window: Window, stream_slice: StreamSlice, data_type: str
    ) -> Iterator[dict[str, Any]]:
        """The body's records; `window` and `data_type` only name what was asked in error messages."""
        transformations = self.transformations
        config = self.config
        count = 0
        try:
            for decoded in self.decoder.decode(response):
                record = cast(dict[str, Any], decoded)
                for transformation in transformations:
                    transformation.transform(record, config=config, stream_slice=stream_slice)
                count += 1
                yield record
        except MalformedLineError as error:
            if count == 0:
                raise self._not_jsonl(response, window, data_type, error.excerpt) from error
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
                raise self._not_jsonl(response, window, data_type, error.excerpt) from error
            raise self._cut(count, error) from error
        except _CUT_BODY_ERRORS as error:
            if _is_read_timeout(error):
                raise WindowFailed(FailureKind.READ_TIMEOUT, f"body silent after {count} records") from error
            raise self._cut(count, error) from error
        finally:
            response.close()

    @staticmethod
    def _cut(count: int, error: Exception) -> WindowFailed:
        kind = FailureKind.BODY_CUT if count else FailureKind.BEFORE_BODY
        return WindowFailed(kind, f"body cut after {count} records ({error.__class__.__name__})")

    def _not_jsonl(
        self, response: requests.Response, window: Window, data_type: str, excerpt: str
    ) -> AirbyteTracedException:
        content_type = response.headers.get("Content-Type", "")
        text = mask(" ".join(excerpt.split()), self.secret)
        return not_jsonl(self.stream_name, data_type, window, content_type, text)
