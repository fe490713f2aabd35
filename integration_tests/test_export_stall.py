"""A stalled export (the emulator's `stall` fault: no byte for a long time) ends the stream within seconds with
small bounds, naming the stream, the window and what happened; and a stall shorter than the read timeout is
simply waited for."""

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.sources.declarative.auth.token import ApiKeyAuthenticator
from airbyte_cdk.sources.declarative.auth.token_provider import InterpolatedStringTokenProvider
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler, HttpResponseFilter
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.requesters.request_option import RequestOption, RequestOptionType
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from integration_tests.emulator import Dataset, Emulator, faults
from source_iterable.components.export_window import ExportWindowRetriever
from source_iterable.export.jsonl import StrictJsonlDecoder
from source_iterable.export.pacing import ExportThrottle

YEAR = StreamSlice(
    partition={}, cursor_slice={"start_time": "2025-01-01T00:00:00Z", "end_time": "2025-12-31T23:59:59Z"}
)


@pytest.fixture
def stalling_emulator() -> Iterator[Emulator]:
    with Emulator(Dataset(seed=7), rate_limits={}) as emu:
        yield emu


def a_retriever(emulator: Emulator, read_timeout: float, stall_deadline: str) -> ExportWindowRetriever:
    """The manifest's export retriever, with the bounds a test can afford (the manifest: 240 s and PT5M)."""
    config = {"api_key": emulator.api_key}
    requester = HttpRequester(
        name="email_send",
        url=f"{emulator.url}/api/export/data.json",
        config=config,
        parameters={},
        http_method="GET",
        connect_timeout_in_seconds=1,
        read_timeout_in_seconds=read_timeout,
        authenticator=ApiKeyAuthenticator(
            request_option=RequestOption(inject_into=RequestOptionType.header, field_name="Api-Key", parameters={}),
            token_provider=InterpolatedStringTokenProvider(config=config, api_token=emulator.api_key, parameters={}),
            config=config,
            parameters={},
        ),
        error_handler=DefaultErrorHandler(
            parameters={},
            config=config,
            max_retries=0,
            response_filters=[
                HttpResponseFilter(config=config, parameters={}, action="IGNORE", http_codes={400, 429, 500})
            ],
        ),
    )
    return ExportWindowRetriever(
        requester=requester,
        decoder=StrictJsonlDecoder(parameters={}),
        config=config,
        parameters={},
        name="email_send",
        primary_key="messageId",
        data_type="emailSend",
        stall_deadline=stall_deadline,
        max_window="P365D",  # the year in one window (no probe): the test is about one stalled window
        throttle=ExportThrottle(limit=1000),
    )


def test_given_an_export_that_never_answers_then_the_stream_fails_within_seconds_naming_window_and_cause(
    stalling_emulator: Emulator,
) -> None:
    stalling_emulator.inject(faults.stall(seconds=60, times=None))
    retriever = a_retriever(stalling_emulator, read_timeout=0.5, stall_deadline="PT2S")
    started = time.monotonic()
    with pytest.raises(AirbyteTracedException) as error:
        list(retriever.read_records({}, YEAR))
    assert time.monotonic() - started < 10
    assert re.fullmatch(
        r"Iterable's export of email_send \(dataTypeName=emailSend\) made no progress on the window "
        r"\[2025-01-01 00:00:00, 2026-01-01 00:00:00\) UTC for \d+ s \(limit 2 s\); the last attempt, "
        r"\[2025-[\d: -]+, 202[56]-[\d: -]+\), failed: read timed out: request failed: ReadTimeout: .*Read timed out\. "
        r"\(read timeout=0\.5\)\. "
        r"No state was saved past this window; the next sync resumes here\.",
        error.value.message or "",
    ), error.value.message


def test_given_a_stall_shorter_than_the_read_timeout_then_the_window_is_read_once(stalling_emulator: Emulator) -> None:
    stalling_emulator.inject(faults.stall(seconds=0.3, times=1))
    records: list[Any] = list(
        a_retriever(stalling_emulator, read_timeout=5, stall_deadline="PT2S").read_records({}, YEAR)
    )
    assert len(records) == len(stalling_emulator.dataset.events["emailSend"])
    assert len([r for r in stalling_emulator.requests if r.path == "/api/export/data.json"]) == 1
