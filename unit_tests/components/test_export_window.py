"""ExportWindowRetriever in isolation: exact requests per slice, a throttle shared by two streams, dedupe keys."""

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests_mock
from airbyte_cdk.sources.declarative.requesters.error_handlers import (
    DefaultErrorHandler,
    HttpResponseFilter,
)
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.types import Record, StreamSlice

from source_iterable.components.export_window import ExportWindowRetriever
from source_iterable.components.jsonl import StrictJsonlDecoder
from source_iterable.components.throttle import ExportThrottle
from unit_tests.components.test_throttle import FakeTime

URL = "https://api.iterable.com/api/export/data.json"


class CursorSpy:
    """Stands in for the stream's ConcurrentCursor: records what the retriever makes it observe."""

    class _Field:
        cursor_field_key = "createdAt"

    cursor_field = _Field()

    def __init__(self) -> None:
        self.observed: list[tuple[dict[str, Any], Any]] = []

    def observe(self, record: Record) -> None:
        self.observed.append((dict(record.data), record.associated_slice))


def a_retriever(
    data_type: str, throttle: ExportThrottle, cursor: CursorSpy | None = None, primary_key: Any = "messageId",
    sleep: Any = None,
) -> ExportWindowRetriever:
    requester = HttpRequester(
        name=data_type, url=URL, config={}, parameters={}, http_method="GET",
        # As the manifest's export_requester: statuses come back to the retriever, nothing is retried below it.
        error_handler=DefaultErrorHandler(
            parameters={}, config={}, max_retries=0,
            response_filters=[HttpResponseFilter(config={}, parameters={}, action="IGNORE", http_codes={400, 429, 500})],
        ),
    )
    return ExportWindowRetriever(
        requester=requester, decoder=StrictJsonlDecoder(parameters={}), config={}, parameters={}, name=data_type,
        primary_key=primary_key, data_type=data_type, throttle=throttle, cursor=cursor,  # type: ignore[arg-type]
        **({"sleep": sleep} if sleep else {}),
    )


def a_slice(start: str, end: str) -> StreamSlice:
    return StreamSlice(partition={}, cursor_slice={"start_time": start, "end_time": end})


@pytest.fixture
def sent() -> Any:
    log: list[tuple[str, str, str]] = []

    def answer(request: Any, context: Any) -> str:
        query = parse_qs(urlparse(request.url).query)
        log.append((query["dataTypeName"][0], query["startDateTime"][0], query["endDateTime"][0]))
        return json.dumps({"messageId": f"{query['dataTypeName'][0]}-{len(log)}", "createdAt": "2025-01-02 00:00:00 +00:00"}) + "\n"

    with requests_mock.Mocker() as mocker:
        mocker.get(URL, text=answer)
        yield log


def test_given_a_slice_then_the_window_sent_ends_one_second_after_its_inclusive_end(sent: list[Any]) -> None:
    retriever = a_retriever("emailSend", ExportThrottle(limit=100))
    list(retriever.read_records({}, a_slice("2025-01-01T00:00:00Z", "2025-01-30T23:59:59Z")))
    assert sent == [("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00")]


def test_given_two_streams_sharing_a_throttle_then_the_fifth_export_request_waits_a_minute(sent: list[Any]) -> None:
    time = FakeTime()
    throttle = ExportThrottle(limit=4, period=60.0, clock=time.clock, sleep=time.sleep)
    email_send, email_open = a_retriever("emailSend", throttle), a_retriever("emailOpen", throttle)
    for day in range(1, 4):
        for retriever in (email_send, email_open):
            list(retriever.read_records({}, a_slice(f"2025-01-0{day}T00:00:00Z", f"2025-01-0{day}T23:59:59Z")))
    assert [request[0] for request in sent] == ["emailSend", "emailOpen"] * 3
    assert time.sleeps == [61.0]


def test_given_a_completed_window_then_the_cursor_observes_its_exclusive_end_for_that_slice(sent: list[Any]) -> None:
    cursor = CursorSpy()
    window = a_slice("2025-01-01T00:00:00Z", "2025-01-30T23:59:59Z")
    records = list(a_retriever("emailSend", ExportThrottle(limit=100), cursor).read_records({}, window))
    assert cursor.observed == [({"createdAt": "2025-01-31T00:00:00Z"}, window)]
    assert [record.associated_slice for record in records] == [None]


def test_given_the_first_attempt_of_every_url_fails_and_long_bodies_are_cut_then_each_url_is_asked_twice() -> None:
    """Eight events in January; a body of more than two lines is cut after two; every URL answers 500 first."""
    events = [{"messageId": f"m-{day}", "createdAt": f"2025-01-{day:02d} 12:00:00 +00:00"} for day in (2, 5, 9, 12, 17, 20, 24, 28)]
    asked: list[tuple[str, str]] = []

    def answer(request: Any, context: Any) -> bytes:
        query = parse_qs(urlparse(request.url).query)
        window = (query["startDateTime"][0], query["endDateTime"][0])
        first_time = window not in asked
        asked.append(window)
        if first_time:
            context.status_code = 500
            return b'{"msg":"An error occurred.","code":"GenericError","params":null}'
        inside = [e for e in events if window[0] <= e["createdAt"][:19] < window[1]]
        lines = b"".join(json.dumps(e).encode() + b"\n" for e in inside)
        if len(inside) > 2:
            return b"".join(json.dumps(e).encode() + b"\n" for e in inside[:2]) + b'{"messageId": "m-'
        return lines

    with requests_mock.Mocker() as mocker:
        mocker.get(URL, content=answer)
        records = list(a_retriever("emailSend", ExportThrottle(limit=1000, sleep=lambda s: None), None,
                                   sleep=lambda s: None).read_records({}, a_slice("2025-01-01T00:00:00Z", "2025-01-31T23:59:59Z")))
    assert sorted(record.data["messageId"] for record in records) == sorted(e["messageId"] for e in events)
    month, first_half, second_half = (
        ("2025-01-01 00:00:00", "2025-02-01 00:00:00"),
        ("2025-01-01 00:00:00", "2025-01-16 12:00:00"),
        ("2025-01-16 12:00:00", "2025-02-01 00:00:00"),
    )
    first_quarter, second_quarter = ("2025-01-01 00:00:00", "2025-01-08 18:00:00"), ("2025-01-08 18:00:00", "2025-01-16 12:00:00")
    third_quarter, fourth_quarter = ("2025-01-16 12:00:00", "2025-01-24 06:00:00"), ("2025-01-24 06:00:00", "2025-02-01 00:00:00")
    assert asked == [
        month, month,
        first_half, first_half, first_quarter, first_quarter, second_quarter, second_quarter,
        second_half, second_half, third_quarter, third_quarter, fourth_quarter, fourth_quarter,
    ]
