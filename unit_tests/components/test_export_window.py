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
from source_iterable.export.jsonl import StrictJsonlDecoder
from source_iterable.export.pacing import ExportThrottle
from unit_tests.export.test_pacing import FakeTime

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
    data_type: str,
    throttle: ExportThrottle,
    cursor: CursorSpy | None = None,
    primary_key: Any = "messageId",
    sleep: Any = None,
) -> ExportWindowRetriever:
    requester = HttpRequester(
        name=data_type,
        url=URL,
        config={},
        parameters={},
        http_method="GET",
        # As the manifest's export_requester: statuses come back to the retriever, nothing is retried below it.
        error_handler=DefaultErrorHandler(
            parameters={},
            config={},
            max_retries=0,
            response_filters=[
                HttpResponseFilter(config={}, parameters={}, action="IGNORE", http_codes={400, 429, 500})
            ],
        ),
    )
    return ExportWindowRetriever(
        requester=requester,
        decoder=StrictJsonlDecoder(parameters={}),
        config={},
        parameters={},
        name=data_type,
        primary_key=primary_key,
        data_type=data_type,
        throttle=throttle,
        cursor=cursor,  # type: ignore[arg-type]
        max_window="P365D",
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
        return (
            json.dumps(
                {"messageId": f"{query['dataTypeName'][0]}-{len(log)}", "createdAt": "2025-01-02 00:00:00 +00:00"}
            )
            + "\n"
        )

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
    events = [
        {"messageId": f"m-{day}", "createdAt": f"2025-01-{day:02d} 12:00:00 +00:00"}
        for day in (2, 5, 9, 12, 17, 20, 24, 28)
    ]
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
        records = list(
            a_retriever(
                "emailSend", ExportThrottle(limit=1000, sleep=lambda s: None), None, sleep=lambda s: None
            ).read_records({}, a_slice("2025-01-01T00:00:00Z", "2025-01-31T23:59:59Z"))
        )
    assert sorted(record.data["messageId"] for record in records) == sorted(e["messageId"] for e in events)
    month, first_half, second_half = (
        ("2025-01-01 00:00:00", "2025-02-01 00:00:00"),
        ("2025-01-01 00:00:00", "2025-01-16 12:00:00"),
        ("2025-01-16 12:00:00", "2025-02-01 00:00:00"),
    )
    first_quarter, second_quarter = (
        ("2025-01-01 00:00:00", "2025-01-08 18:00:00"),
        ("2025-01-08 18:00:00", "2025-01-16 12:00:00"),
    )
    third_quarter, fourth_quarter = (
        ("2025-01-16 12:00:00", "2025-01-24 06:00:00"),
        ("2025-01-24 06:00:00", "2025-02-01 00:00:00"),
    )
    assert asked == [
        month,
        month,
        first_half,
        first_half,
        first_quarter,
        first_quarter,
        second_quarter,
        second_quarter,
        second_half,
        second_half,
        third_quarter,
        third_quarter,
        fourth_quarter,
        fourth_quarter,
    ]


class FakeExport:
    """`export/data.json` over a list of events (createdAt in Iterable's form), logging (start, end, probe?)."""

    def __init__(self, days: list[str], broken_probe: bool = False) -> None:  # a probe answers a broken line
        self.events = [{"messageId": f"m-{n}", "createdAt": f"{day} 12:00:00 +00:00"} for n, day in enumerate(days)]
        self.asked: list[tuple[str, str, bool]] = []
        self.broken_probe = broken_probe

    def __call__(self, request: Any, context: Any) -> bytes:
        query = parse_qs(urlparse(request.url).query)
        start, end = query["startDateTime"][0], query["endDateTime"][0]
        probe = "onlyFields" in query
        self.asked.append((start, end, probe))
        inside = [e for e in self.events if start <= e["createdAt"][:19] < end]
        if probe:
            if self.broken_probe:
                return b'{"createdAt": "2025-01-05 12:00:00 +00:00"}\n{broken\n'
            inside = [{"createdAt": e["createdAt"]} for e in inside]
        return b"".join(json.dumps(e).encode() + b"\n" for e in inside)


def read_year(api: FakeExport, target: int, window_days: int = 30) -> list[str]:
    retriever = ExportWindowRetriever(
        requester=HttpRequester(
            name="emailSend",
            url=URL,
            config={},
            parameters={},
            http_method="GET",
            error_handler=DefaultErrorHandler(parameters={}, config={}, max_retries=0),
        ),
        decoder=StrictJsonlDecoder(parameters={}),
        config={},
        parameters={},
        name="email_send",
        primary_key="messageId",
        data_type="emailSend",
        throttle=ExportThrottle(limit=1000, sleep=lambda s: None),
        sleep=lambda s: None,
        max_window=f"P{window_days}D",
        target_records_per_window=target,
    )
    with requests_mock.Mocker() as mocker:
        mocker.get(URL, content=api)
        records = list(retriever.read_records({}, a_slice("2025-01-01T00:00:00Z", "2025-12-31T23:59:59Z")))
    return sorted(record.data["messageId"] for record in records)


def test_given_an_empty_year_then_one_request_covers_it() -> None:
    api = FakeExport([])
    assert read_year(api, target=3) == []
    assert api.asked == [("2025-01-01 00:00:00", "2026-01-01 00:00:00", True)]


def test_given_a_dense_month_then_its_windows_are_small_and_the_empty_months_cost_nothing_extra() -> None:
    api = FakeExport([f"2025-04-{day:02d}" for day in range(1, 11)])
    assert read_year(api, target=4) == sorted(f"m-{n}" for n in range(10))
    assert api.asked == [
        ("2025-01-01 00:00:00", "2026-01-01 00:00:00", True),
        ("2025-01-01 00:00:00", "2025-04-05 12:00:00", False),
        ("2025-04-05 12:00:00", "2025-04-09 12:00:00", False),
        ("2025-04-09 12:00:00", "2026-01-01 00:00:00", False),
    ]


def test_given_a_sparse_year_then_the_probe_and_one_request_read_it() -> None:
    api = FakeExport(["2025-02-10", "2025-02-20", "2025-10-01"])
    assert read_year(api, target=4) == ["m-0", "m-1", "m-2"]
    assert api.asked == [
        ("2025-01-01 00:00:00", "2026-01-01 00:00:00", True),
        ("2025-01-01 00:00:00", "2026-01-01 00:00:00", False),
    ]


def test_given_a_probe_that_cannot_be_planned_from_then_windows_are_sized_by_the_density_the_last_one_showed() -> None:
    api = FakeExport(
        ["2025-01-05", "2025-01-06", "2025-01-07", "2025-01-08", "2025-01-09", "2025-01-10"], broken_probe=True
    )
    assert read_year(api, target=2, window_days=20) == [f"m-{n}" for n in range(6)]
    assert api.asked[:4] == [
        ("2025-01-01 00:00:00", "2026-01-01 00:00:00", True),
        ("2025-01-01 00:00:00", "2025-01-21 00:00:00", False),  # six records in 20 days: next window 20 × 2/6 days
        ("2025-01-21 00:00:00", "2025-01-27 16:00:00", False),  # empty: next window window_days again
        ("2025-01-27 16:00:00", "2025-02-16 16:00:00", False),
    ]


class ScriptedReader:
    """A range reader yielding a fixed script of records and WindowDone markers."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script

    def read_range(self, window: Any, stream_slice: Any, progress: Any) -> Any:
        yield from self.script


def day(number: int) -> Any:
    from datetime import UTC, datetime

    return datetime(2025, 1, number, tzinfo=UTC)


class ClosingCursorSpy(CursorSpy):
    def __init__(self) -> None:
        super().__init__()
        self.closed: list[dict[str, Any]] = []

    def close_partition(self, partition: Any) -> None:
        self.closed.append(dict(partition.to_slice()))


def test_given_windows_done_out_of_order_then_only_the_contiguous_prefix_is_checkpointed() -> None:
    from source_iterable.export.reading import WindowDone

    cursor = ClosingCursorSpy()
    retriever = a_retriever("emailSend", ExportThrottle(limit=100), cursor)  # type: ignore[arg-type]
    script = [
        {"messageId": "a"},
        WindowDone((day(10), day(20))),  # not contiguous with the range start: ignored
        {"messageId": "b"},
        WindowDone((day(1), day(5))),
        {"messageId": "c"},
        WindowDone((day(5), day(10))),
        WindowDone((day(10), day(20))),
        WindowDone((day(20), day(31))),  # the range's end: completed as the slice's own
    ]
    retriever.orchestrator = lambda: ScriptedReader(script)  # type: ignore[method-assign,assignment,return-value]
    records = list(retriever.read_records({}, a_slice("2025-01-01T00:00:00Z", "2025-01-30T23:59:59Z")))
    assert [record.data["messageId"] for record in records] == ["a", "b", "c"]
    assert cursor.closed == [
        {"start_time": "2025-01-01T00:00:00Z", "end_time": "2025-01-04T23:59:59Z"},
        {"start_time": "2025-01-01T00:00:00Z", "end_time": "2025-01-09T23:59:59Z"},
        {"start_time": "2025-01-01T00:00:00Z", "end_time": "2025-01-19T23:59:59Z"},
    ]
    assert [data for data, _ in cursor.observed] == [
        {"createdAt": "2025-01-05T00:00:00Z"},
        {"createdAt": "2025-01-10T00:00:00Z"},
        {"createdAt": "2025-01-20T00:00:00Z"},
        {"createdAt": "2025-01-31T00:00:00Z"},
    ]
