"""One `GET export/data.json` for one window: take a throttle slot, send, and say what the status means."""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.streams.http.exceptions import BaseBackoffException
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.bounds import RATE_LIMITED_TRIES
from source_iterable.export.pacing import ExportThrottle
from source_iterable.export.planner import FailureKind, WindowFailed
from source_iterable.export.records import NotJsonl
from source_iterable.export.window import REQUEST_FORMAT, Window, describe
from source_iterable.request_policy import excerpt, iterable_message, rate_limit_wait

LOGGER = logging.getLogger("airbyte")

# Content types an export body may come with; Iterable sends application/x-json-stream. Anything else (text/html
# from a proxy or login page, XML) is not JSONL and fails the stream instead of being parsed as a cut body.
JSONL_CONTENT_TYPES = frozenset(
    {
        "application/x-json-stream",
        "application/json",
        "application/x-ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/json-seq",
        "text/plain",
        "application/octet-stream",
    }
)


def failure_kind(error: BaseException) -> FailureKind:
    """A requests error (or the CDK's wrapper of one) before the body: a read timeout, or anything else.

    The CDK's HttpClient does not chain the requests exception it gives up on: its `BaseBackoffException` only
    carries "<ExceptionClass>: <text>" (`response_models._format_exception_error_message`), so the message names it.
    """
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, requests.exceptions.ReadTimeout) or _names_a_read_timeout(str(seen)):
            return FailureKind.READ_TIMEOUT
        seen = seen.__cause__ or seen.__context__
    return FailureKind.BEFORE_BODY


def _names_a_read_timeout(message: str) -> bool:
    return message.startswith("ReadTimeout:") or "Read timed out" in message


@dataclass
class ExportRequestSender:
    """Sends one export request for a window and returns the response whose JSONL body may be read.

    Every attempt, 429 retries included, first takes a slot of the sync's `ExportThrottle`; the time spent
    waiting for it is reported to `on_wait` (a range's progress watchdog does not count it).
    - 2xx with a JSONL content type (or none): the response, streaming;
    - 2xx with another content type: the stream fails, "not JSONL", naming the window, the type and an excerpt
      of the body (secrets masked);
    - 429: the throttle pauses for request_policy's `rate_limit_wait` and the same window is asked again, up to
      `max_rate_limited_retries` times in a row, then the stream fails;
    - 5xx, connection error, connect timeout: `WindowFailed(BEFORE_BODY)`; read timeout: `WindowFailed(READ_TIMEOUT)`
      (the planner decides what comes next);
    - 400 on a stream with `fallback_data_type` (the unsubscribe spelling): that spelling from now on;
    - 401/403: a config error worded by `refused` (the runtime's `RefusedKey`: a key refused everywhere, or a key
      that cannot export);
    - any other status: the stream fails with Iterable's message.
    """

    requester: HttpRequester
    throttle: ExportThrottle
    stream_name: str
    data_type: str
    fallback_data_type: str = ""
    max_rate_limited_retries: int = RATE_LIMITED_TRIES - 1
    secret: str = ""
    refused: Callable[[str, str, int, str], AirbyteTracedException] | None = None

    def send(
        self,
        window: Window,
        stream_slice: StreamSlice,
        on_wait: Callable[[float], None],
        extra_params: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """The response for `window`; `extra_params` (e.g. `onlyFields`) are added to the query."""
        rate_limited = 0
        while True:
            slot = self.throttle.acquire()
            on_wait(slot.waited)
            try:
                response = self._attempt(window, stream_slice, extra_params or {})
            finally:
                self.throttle.answered(slot)
            status = response.status_code
            if status < 300:
                self._check_content_type(response, window)
                return response
            message = iterable_message(response.content, self.secret)
            response.close()
            if status == 429:
                rate_limited += 1
                if rate_limited > self.max_rate_limited_retries:
                    raise self._kept_rate_limiting(rate_limited, message)
                self.throttle.rate_limited(rate_limit_wait(response.headers, time.time(), "export/data.json"))
                continue
            if status >= 500:
                raise WindowFailed(FailureKind.BEFORE_BODY, f"HTTP {status} {message}")
            if status in (401, 403) and self.refused is not None:
                raise self.refused("the export of", self.stream_name, status, message)
            if status == 400 and self.fallback_data_type and self.data_type != self.fallback_data_type:
                LOGGER.warning(
                    f"{self.stream_name}: Iterable rejected dataTypeName={self.data_type} ({message}); "
                    f"using the spelling {self.fallback_data_type} from now on."
                )
                self.data_type = self.fallback_data_type
                continue
            raise AirbyteTracedException(
                message=(
                    f"Iterable refused the export of {self.stream_name} (dataTypeName={self.data_type}, window "
                    f"{describe(window)} UTC) with HTTP {status}: {message}."
                ),
                internal_message=f"HTTP {status} on export/data.json for {self.stream_name}",
                failure_type=FailureType.system_error,
            )

    def _kept_rate_limiting(self, times: int, message: str) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=(
                f"Iterable kept answering 429 (rate limit) to the export of {self.stream_name} {times} times in a "
                f"row: {message}. Another client may be using the same project's export API; lower "
                "export_requests_per_minute or retry later."
            ),
            internal_message=f"HTTP 429 x{times} on export/data.json for {self.stream_name}",
            failure_type=FailureType.transient_error,
        )

    def _attempt(self, window: Window, stream_slice: StreamSlice, extra_params: Mapping[str, str]) -> requests.Response:
        params = {
            "dataTypeName": self.data_type,
            "startDateTime": window[0].strftime(REQUEST_FORMAT),
            "endDateTime": window[1].strftime(REQUEST_FORMAT),
            **extra_params,
        }
        try:
            response = self.requester.send_request(stream_slice=stream_slice, request_params=params)
        except AirbyteTracedException as error:
            # The HTTP client (max_retries 0) gives up at once on a connection error or timeout and raises
            # from its BaseBackoffException: a failed attempt of this window, not a failed sync.
            cause = error.__context__
            if error.failure_type == FailureType.transient_error or isinstance(cause, BaseBackoffException):
                raise WindowFailed(failure_kind(error), f"request failed: {cause or error.message}") from error
            raise
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            raise WindowFailed(failure_kind(error), f"request failed: {error.__class__.__name__}") from error
        if response is None:
            raise WindowFailed(FailureKind.BEFORE_BODY, "no response")
        return response

    def _check_content_type(self, response: requests.Response, window: Window) -> None:
        content_type = response.headers.get("Content-Type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if not media_type or media_type in JSONL_CONTENT_TYPES:
            return
        start = _first_bytes(response)
        response.close()
        raise NotJsonl(self.stream_name, self.data_type, window, content_type, excerpt(start, self.secret))


def _first_bytes(response: requests.Response, size: int = 480) -> bytes:
    try:
        head = next(response.iter_content(chunk_size=size), b"")
    except requests.exceptions.RequestException:
        head = b""
    return head if isinstance(head, bytes) else str(head).encode()
