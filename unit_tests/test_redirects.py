"""Issue 12 §1: a 3xx from the configured host is an error naming the status and the target host; the API key
never reaches another host (check probes, REST streams, exports). Real redirects between two loopback servers."""

from collections.abc import Callable
from typing import Any

import pytest
from airbyte_cdk.models import Status

from unit_tests.loopback import Answer, LoopbackServer
from unit_tests.mock_server.helpers import read_stream, run_check

KEY = "redirect-test-key-0123"


def config_for(server: LoopbackServer) -> dict[str, Any]:
    return {
        "api_key": KEY,
        "start_date": "2024-01-01T00:00:00Z",
        "end_date": "2024-01-02T00:00:00Z",
        "api_base_url": server.url,
        "export_requests_per_minute": 1000,
    }


def redirect_to(target: LoopbackServer, status: int = 302) -> Answer:
    return Answer(status, headers={"Location": f"{target.url.replace('127.0.0.1', 'localhost')}/steal"})


def expected_message(path: str, status: int = 302) -> str:
    return (
        f"Iterable answered GET {path} with a redirect (HTTP {status}) to host localhost. The connector does not "
        "follow redirects, so that the API key is never sent to another host; if the API's address changed, set "
        "api_base_url (or region) to it."
    )


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_given_redirect_on_a_rest_page_when_read_then_stream_fails_naming_status_and_host_and_target_gets_nothing(
    loopback: Callable[[], LoopbackServer], status: int
) -> None:
    iterable, other = loopback(), loopback()
    iterable.answer("/api/campaigns", redirect_to(other, status))

    output = read_stream("campaigns", config_for(iterable), expect_failure=True)

    assert next(error.trace.error.message for error in output.errors) == expected_message("/api/campaigns", status)
    assert iterable.paths() == ["/api/campaigns"]
    assert other.received == []


def test_given_redirect_on_an_export_when_read_then_stream_fails_and_target_gets_nothing(
    loopback: Callable[[], LoopbackServer],
) -> None:
    iterable, other = loopback(), loopback()
    iterable.answer("/api/export/data.json", redirect_to(other))

    output = read_stream("email_send", config_for(iterable), expect_failure=True)

    assert next(error.trace.error.message for error in output.errors) == expected_message("/api/export/data.json")
    assert iterable.paths() == ["/api/export/data.json"]
    assert other.received == []


def test_given_redirect_on_the_channels_probe_when_check_then_fails_naming_status_and_host(
    loopback: Callable[[], LoopbackServer],
) -> None:
    iterable, other = loopback(), loopback()
    iterable.answer("/api/channels", redirect_to(other, 307))

    output = run_check(config_for(iterable))

    status = output.connection_status_messages[0].connectionStatus
    assert (status.status, status.message) == (Status.FAILED, expected_message("/api/channels", 307))
    assert other.received == []


def test_given_a_key_carrying_request_when_sent_then_only_the_configured_host_sees_the_key_header(
    loopback: Callable[[], LoopbackServer],
) -> None:
    iterable = loopback()
    iterable.answer("/api/channels", Answer(200, b'{"channels": []}'))

    read_stream("channels", config_for(iterable))

    assert [received.headers.get("Api-Key") for received in iterable.received] == [KEY]
