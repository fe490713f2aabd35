"""Issue 12 §4 (REST): every wait has an upper bound.

`Retry-After` is obeyed up to 60 s (a WARNING says when it is cut), and a 429 without a usable one (inf, nan,
negative, garbage, a past HTTP-date) waits the same 60 s, a per-minute limit's window (+ the CDK's 1 s), as on every
path (request_policy.py). Waits are recorded, not slept (`retry_waits`). A server that accepts and never answers, or
stops in the middle of an answer, times out (bounds made small through the manifest) and the stream fails with a
message after its retries, in seconds; a single stall is retried and recovers.
"""

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import pytest
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse

from source_iterable.bounds import RETRY_AFTER_CAP_SECONDS
from source_iterable.request_policy import BACKOFF, retry_after_seconds
from source_iterable.source import load_manifest
from unit_tests.loopback import Answer, LoopbackServer
from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of, warnings_of
from unit_tests.mock_server.request_builder import a_request
from unit_tests.mock_server.response_builder import a_channel, error_response, records_response


def rate_limited_with(retry_after: str) -> HttpResponse:
    return error_response(429, "RateLimitExceeded", "Exceeded rate limit for endpoint", {"Retry-After": retry_after})


def test_given_retry_after_of_a_day_when_read_then_waits_the_60_s_cap_and_says_so(
    http_mocker: HttpMocker, retry_waits: list[float]
) -> None:
    http_mocker.get(
        a_request("channels").build(), [rate_limited_with("86400"), records_response("channels", [a_channel(1)])]
    )

    output = read_stream("channels", a_config().build())

    assert records_of(output) == [a_channel(1)]
    assert retry_waits == [61.0]
    assert (
        "Iterable asked to wait 86400 s (Retry-After) on /api/channels; waiting 60 s, the longest this connector "
        "waits before one retry." in warnings_of(output)
    )


@pytest.mark.parametrize("value", ["inf", "nan", "-5", "1e400", "soon", "Wed, 99 Foo 2024 25:00:00 GMT", ""])
def test_given_nonsense_retry_after_when_read_then_waits_a_minute_and_recovers(
    http_mocker: HttpMocker, retry_waits: list[float], value: str
) -> None:
    http_mocker.get(
        a_request("channels").build(), [rate_limited_with(value), records_response("channels", [a_channel(1)])]
    )

    output = read_stream("channels", a_config().build())

    assert records_of(output) == [a_channel(1)]
    assert retry_waits == [61.0]


@pytest.mark.parametrize(
    "value, seconds",
    [
        pytest.param("120", 120.0, id="seconds"),
        pytest.param("0.5", 0.5, id="fraction"),
        pytest.param(format_datetime(datetime(2024, 1, 1, 0, 1, 30, tzinfo=UTC), usegmt=True), 90.0, id="http-date"),
        pytest.param(format_datetime(datetime(2023, 12, 31, tzinfo=UTC), usegmt=True), None, id="past-date"),
        pytest.param("Infinity", None, id="infinity"),
        pytest.param("NaN", None, id="nan"),
        pytest.param("-1", None, id="negative"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_retry_after_seconds_reads_delays_and_future_http_dates_only(value: str | None, seconds: float | None) -> None:
    now = datetime(2024, 1, 1, tzinfo=UTC).timestamp()

    assert retry_after_seconds(value, now) == seconds


def small_timeouts(seconds: float) -> Callable[[dict[str, Any]], None]:
    def edit(manifest: dict[str, Any]) -> None:
        requester = manifest["definitions"]["requester"]
        requester["connect_timeout_in_seconds"] = seconds
        requester["read_timeout_in_seconds"] = seconds

    return edit


def loopback_config(server: LoopbackServer) -> dict[str, Any]:
    return {**a_config().build(), "api_base_url": server.url}


def test_given_a_server_that_never_answers_when_read_then_six_timed_out_attempts_and_a_clear_failure(
    loopback: Callable[[], LoopbackServer], retry_waits: list[float]
) -> None:
    server = loopback()
    server.answer("/api/lists", Answer(stall=True))
    started = time.monotonic()

    output = read_stream("lists", loopback_config(server), expect_failure=True, manifest_edit=small_timeouts(0.3))

    assert time.monotonic() - started < 20
    assert server.paths() == ["/api/lists"] * 6
    assert retry_waits == [3.0, 5.0, 9.0, 17.0, 31.0]
    error = output.errors[0].trace.error
    assert (error.failure_type.value, error.message) == (
        "transient_error",
        f"Iterable did not answer GET {server.url}/api/lists in time (read timeout), on all 6 attempts; Iterable may "
        "be down, or the network or a proxy may drop the connection. Retry the sync later.",
    )


def test_given_answers_that_stall_mid_body_when_read_then_six_attempts_and_a_failure_naming_the_endpoint(
    loopback: Callable[[], LoopbackServer], retry_waits: list[float]
) -> None:
    """requests raises a stall in the body without its request: the error names the stream's endpoint."""
    server = loopback()
    server.answer("/api/lists", Answer(200, b'{"lists": [{"id": 7}', stall_mid_body=True))

    output = read_stream("lists", loopback_config(server), expect_failure=True, manifest_edit=small_timeouts(0.3))

    assert server.paths() == ["/api/lists"] * 6
    assert retry_waits == [3.0, 5.0, 9.0, 17.0, 31.0]
    error = output.errors[0].trace.error
    assert (error.failure_type.value, error.message) == (
        "transient_error",
        f"Iterable did not answer GET {server.url}/api/lists in time (read timeout), on all 6 attempts; Iterable may "
        "be down, or the network or a proxy may drop the connection. Retry the sync later.",
    )


def test_given_one_stalled_answer_when_read_then_retried_and_records_emitted(
    loopback: Callable[[], LoopbackServer], retry_waits: list[float]
) -> None:
    server = loopback()
    server.answer("/api/lists", Answer(stall=True), Answer(200, b'{"lists": [{"id": 7}]}'))

    output = read_stream("lists", loopback_config(server), manifest_edit=small_timeouts(0.3))

    assert records_of(output) == [{"id": 7}]
    assert retry_waits == [3.0]


def test_default_rest_timeouts_bound_a_failing_request_under_ten_minutes() -> None:
    manifest = load_manifest()
    requester = manifest["definitions"]["requester"]
    retries = manifest["definitions"]["error_handler"]["max_retries"]
    silence = requester["connect_timeout_in_seconds"] + requester["read_timeout_in_seconds"]
    backoffs = sum(BACKOFF.wait(attempt) + 1 for attempt in range(1, retries + 1))

    assert (retries + 1) * silence + backoffs < 600
    assert retries * (RETRY_AFTER_CAP_SECONDS + 1) < 600
