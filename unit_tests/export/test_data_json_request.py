"""ExportRequestSender and ExportRecords alone: one request's status, content type and body, interpreted."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import requests_mock
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler, HttpResponseFilter
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.export.data_json_request import ExportRequestSender
from source_iterable.export.jsonl import StrictJsonlDecoder
from source_iterable.export.pacing import ExportThrottle
from source_iterable.export.planner import FailureKind, WindowFailed
from source_iterable.export.records import ExportRecords
from unit_tests.export.job_api import FakeClock

URL = "https://api.iterable.com/api/export/data.json"
KEY = "secret-key-0123456789"
WINDOW = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 31, tzinfo=UTC))
SLICE = StreamSlice(
    partition={}, cursor_slice={"start_time": "2025-01-01T00:00:00Z", "end_time": "2025-01-30T23:59:59Z"}
)
NOT_JSONL = (
    "Iterable's export/data.json answered the export of email_send (dataTypeName=emailSend, window "
    "[2025-01-01 00:00:00, 2025-01-31 00:00:00) UTC) with a body that is not JSONL (Content-Type: {type}), "
    "starting {excerpt!r}. A proxy or an outage page may stand between the connector and Iterable; no state was "
    "saved past this window."
)


def a_sender(max_rate_limited_retries: int = 10) -> ExportRequestSender:
    requester = HttpRequester(
        name="email_send",
        url=URL,
        config={},
        parameters={},
        http_method="GET",
        # As the manifest's export_requester: statuses come back to the sender, nothing is retried below it.
        error_handler=DefaultErrorHandler(
            parameters={},
            config={},
            max_retries=0,
            response_filters=[
                HttpResponseFilter(
                    config={},
                    parameters={},
                    action="IGNORE",
                    http_codes={400, 429, 500, 502, 503, 504},
                )
            ],
        ),
    )
    requester.stream_response = True
    return ExportRequestSender(
        requester=requester,
        throttle=ExportThrottle(limit=1000, sleep=lambda seconds: None),
        stream_name="email_send",
        data_type="emailSend",
        max_rate_limited_retries=max_rate_limited_retries,
        secret=KEY,
    )


def a_reader() -> ExportRecords:
    return ExportRecords(decoder=StrictJsonlDecoder(parameters={}), config={}, stream_name="email_send", secret=KEY)


def read(sender: ExportRequestSender) -> list[dict[str, Any]]:
    response = sender.send(WINDOW, SLICE, lambda waited: None)
    return list(a_reader().read(response, WINDOW, SLICE, sender.data_type))


@pytest.mark.parametrize(
    "answer, kind",
    [
        pytest.param(
            {"status_code": 500, "text": '{"code":"GenericError","msg":"x"}'}, FailureKind.BEFORE_BODY, id="500"
        ),
        pytest.param({"status_code": 503, "text": "down"}, FailureKind.BEFORE_BODY, id="503"),
        pytest.param(
            {"exc": requests.exceptions.ConnectionError("refused")}, FailureKind.BEFORE_BODY, id="connection-refused"
        ),
        pytest.param(
            {"exc": requests.exceptions.ConnectTimeout("slow")}, FailureKind.BEFORE_BODY, id="connect-timeout"
        ),
        pytest.param({"exc": requests.exceptions.ReadTimeout("silent")}, FailureKind.READ_TIMEOUT, id="read-timeout"),
    ],
)
def test_given_a_failed_attempt_then_the_failure_kind_says_what_comes_next(
    answer: dict[str, Any], kind: FailureKind
) -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, **answer)
        with pytest.raises(WindowFailed) as failure:
            a_sender().send(WINDOW, SLICE, lambda waited: None)
    assert failure.value.kind is kind


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param("application/x-json-stream", id="iterables-own"),
        pytest.param("application/json; charset=utf-8", id="json-with-charset"),
        pytest.param(None, id="none"),
    ],
)
def test_given_a_jsonl_content_type_then_the_records_are_read(content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, status_code=200, content=b'{"a": 1}\n{"a": 2}\n', headers=headers)
        assert read(a_sender()) == [{"a": 1}, {"a": 2}]


@pytest.mark.parametrize(
    "content_type, body, expected_type, excerpt",
    [
        pytest.param(
            "text/html",
            b"<html><body>Sign in</body></html>",
            "text/html",
            "<html><body>Sign in</body></html>",
            id="html-content-type",
        ),
        pytest.param(
            "text/html; charset=utf-8",
            b"<html>\n  <p>key " + KEY.encode() + b"</p>",
            "text/html; charset=utf-8",
            "<html> <p>key ****</p>",
            id="html-echoing-the-key-is-masked",
        ),
        pytest.param(
            "application/x-json-stream",
            b'<html>maintenance</html>\n{"a": 1}\n',
            "application/x-json-stream",
            "<html>maintenance</html>",
            id="first-line-not-json-despite-the-type",
        ),
        pytest.param(
            "application/x-json-stream",
            b"Service unavailable",
            "application/x-json-stream",
            "Service unavailable",
            id="unterminated-first-line-not-json-is-not-a-cut",
        ),
    ],
)
def test_given_a_200_that_is_not_jsonl_then_the_stream_fails_saying_so(
    content_type: str, body: bytes, expected_type: str, excerpt: str
) -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, status_code=200, content=body, headers={"Content-Type": content_type})
        with pytest.raises(AirbyteTracedException) as error:
            read(a_sender())
    assert error.value.message == NOT_JSONL.format(type=expected_type, excerpt=excerpt)


def test_given_a_cut_first_line_that_starts_like_json_then_it_is_a_cut_before_any_record() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, status_code=200, content=b'{"a": ', headers={"Content-Type": "application/x-json-stream"})
        with pytest.raises(WindowFailed) as failure:
            read(a_sender())
    assert failure.value.kind is FailureKind.BEFORE_BODY


def test_given_a_body_cut_after_records_then_it_is_a_cut_after_data() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(
            URL, status_code=200, content=b'{"a": 1}\n{"a": ', headers={"Content-Type": "application/x-json-stream"}
        )
        records: list[dict[str, Any]] = []
        with pytest.raises(WindowFailed) as failure:
            records.extend(read(a_sender()))
    assert failure.value.kind is FailureKind.BODY_CUT
    assert failure.value.reason == "body cut after 1 records (TruncatedBodyError)"


def test_given_an_error_body_echoing_the_key_then_the_failure_masks_it() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, status_code=500, text='{"code":"GenericError","msg":"bad key ' + KEY + '"}')
        with pytest.raises(WindowFailed) as failure:
            a_sender().send(WINDOW, SLICE, lambda waited: None)
    assert failure.value.reason == "HTTP 500 GenericError: bad key ****"


def test_given_a_429_then_the_wait_for_the_throttle_is_reported_and_the_window_asked_again() -> None:
    waits: list[float] = []
    with requests_mock.Mocker() as mocker:
        mocker.get(
            URL,
            [
                {"status_code": 429, "text": "{}", "headers": {"Retry-After": "0"}},
                {"status_code": 200, "text": '{"a": 1}\n'},
            ],
        )
        response = a_sender().send(WINDOW, SLICE, waits.append)
        assert response.status_code == 200
        assert mocker.call_count == 2
    assert waits == [0.0, 0.0]


def test_window_sent_is_the_window_asked_in_iterables_format() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, status_code=200, text="")
        a_sender().send((WINDOW[0], WINDOW[0] + timedelta(hours=1, seconds=1)), SLICE, lambda waited: None)
        assert mocker.last_request.qs == {
            "datatypename": ["emailsend"],
            "startdatetime": ["2025-01-01 00:00:00"],
            "enddatetime": ["2025-01-01 01:00:01"],
        }


@pytest.mark.parametrize("retry_after", ["86400", "inf", "nonsense"])
def test_given_429s_asking_to_wait_a_day_then_the_stream_fails_after_five_waits_of_a_minute(retry_after: str) -> None:
    clock = FakeClock()
    sender = a_sender(max_rate_limited_retries=5)
    sender.throttle = ExportThrottle(limit=1000, clock=clock, sleep=clock.sleep)
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, status_code=429, headers={"Retry-After": retry_after}, text='{"code":"RateLimitExceeded"}')
        with pytest.raises(AirbyteTracedException) as error:
            sender.send(WINDOW, SLICE, lambda waited: None)
        assert mocker.call_count == 6
    assert clock.slept == [60.0] * 5  # 300 s in all: well within 10 minutes
    assert error.value.message.startswith(
        "Iterable kept answering 429 (rate limit) to the export of email_send 6 times in a row"
    )


def test_given_a_line_over_the_longest_record_then_the_stream_fails_naming_the_window_and_the_size() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, status_code=200, content=b'{"a": 1}\n{"b": "' + b"z" * 200 + b'"}\n')
        response = a_sender().send(WINDOW, SLICE, lambda waited: None)
        records = ExportRecords(
            decoder=StrictJsonlDecoder(parameters={}, max_line_bytes=64), config={}, stream_name="email_send"
        )
        with pytest.raises(AirbyteTracedException) as error:
            list(records.read(response, WINDOW, SLICE, "emailSend"))
    assert error.value.message == (
        "Iterable's export of email_send (dataTypeName=emailSend) for the window [2025-01-01 00:00:00, "
        "2025-01-31 00:00:00) UTC has a record longer than 64 bytes (line 2: 209 bytes read of it), the longest "
        "record this connector writes. The stream stops here, with no state past this range; leave this stream out "
        "of the sync, or ask Iterable why one record is this large."
    )
