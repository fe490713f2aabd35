"""`check`: GET channels with the key, then one export request for one second of emailSend.

Both probes are `definitions.check_probes` in the manifest; a refusal fails the check with a message saying what
to do, never a stack trace.
"""

import pytest
import requests_mock
from airbyte_cdk.models import Status
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest

from unit_tests.mock_server.config import EU_BASE, US_BASE, a_config
from unit_tests.mock_server.helpers import run_check
from unit_tests.mock_server.request_builder import a_request
from unit_tests.mock_server.response_builder import (
    bad_api_key,
    error_response,
    forbidden,
    records_response,
    server_error,
)
from unit_tests.network_errors import unresolved


def an_export_probe(base: str = US_BASE) -> HttpRequest:
    return (
        a_request("export/data.json", base)
        .with_param("dataTypeName", "emailSend")
        .with_param("startDateTime", "2024-01-01 00:00:00")
        .with_param("endDateTime", "2024-01-01 00:00:01")
        .build()
    )


def test_given_server_side_key_when_check_then_succeeds_after_channels_and_export_probe(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("channels").build(), records_response("channels", []))
    http_mocker.get(an_export_probe(), records_response("x", []))

    output = run_check(a_config().build())

    assert [m.connectionStatus.status for m in output.connection_status_messages] == [Status.SUCCEEDED]


def test_given_date_only_start_date_when_check_then_export_probe_starts_at_midnight(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("channels").build(), records_response("channels", []))
    http_mocker.get(an_export_probe(), records_response("x", []))

    output = run_check(a_config().with_start_date("2024-01-01").build())

    assert [m.connectionStatus.status for m in output.connection_status_messages] == [Status.SUCCEEDED]


@pytest.mark.parametrize(
    "region, base",
    [pytest.param("US", US_BASE, id="US"), pytest.param("EU", EU_BASE, id="EU")],
)
def test_given_wrong_key_when_check_then_fails_naming_the_causes_and_the_region_in_use(
    http_mocker: HttpMocker, region: str, base: str
) -> None:
    http_mocker.get(a_request("channels", base).build(), bad_api_key())

    output = run_check(a_config().with_region(region).build())

    status = output.connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED
    assert status.message == (
        f"Iterable rejected the API key (BadApiKey: Invalid API key) on {base}/api/channels. The key is wrong, "
        "was rotated, was copied with leading or trailing whitespace, or belongs to a project in the other data "
        f"center: this connection uses the {region} data center."
    )


def test_given_read_only_key_when_check_then_export_probe_fails_naming_the_key_type(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("channels").build(), records_response("channels", []))
    http_mocker.get(an_export_probe(), bad_api_key())

    output = run_check(a_config().build())

    status = output.connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED
    assert status.message == (
        "The API key can read Iterable's REST API but not its export API (BadApiKey: Invalid API key on "
        "https://api.iterable.com/api/export/data.json): it is not a Server-side key. Read-only and client-side "
        "(Mobile, JavaScript) keys cannot export events or users; create a Server-side key in Iterable under "
        "Integrations → API Keys."
    )


def test_given_forbidden_channels_when_check_then_fails_with_iterable_code_and_msg(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("channels").build(), forbidden())

    output = run_check(a_config().build())

    status = output.connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED
    assert status.message == (
        "Iterable refused https://api.iterable.com/api/channels (Forbidden): Access to this endpoint is not allowed "
        "for this API key"
    )


def test_given_persistent_500_when_check_then_fails_with_endpoint_and_msg_without_stack_trace(
    http_mocker: HttpMocker, retry_waits: list[float]
) -> None:
    http_mocker.get(a_request("channels").build(), [server_error()] * 6)

    output = run_check(a_config().build())

    status = output.connection_status_messages[-1].connectionStatus
    assert status.status == Status.FAILED
    assert (
        "Iterable failed on https://api.iterable.com/api/channels (GenericError): An error occurred." in status.message
    )
    assert "Traceback" not in status.message
    assert output.errors == []


def test_given_bad_request_when_check_then_fails_with_code_and_msg(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("channels").build(), records_response("channels", []))
    http_mocker.get(an_export_probe(), error_response(400, "BadParams", "Invalid date range"))

    output = run_check(a_config().build())

    assert output.connection_status_messages[-1].connectionStatus.message == (
        "Iterable refused https://api.iterable.com/api/export/data.json (BadParams): Invalid date range"
    )


def test_given_iterable_unreachable_when_check_then_fails_naming_the_probe_and_the_cause(
    retry_waits: list[float],
) -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(f"{US_BASE}/api/channels", exc=unresolved())
        output = run_check(a_config().build())

    status = output.connection_status_messages[-1].connectionStatus
    assert mocker.call_count == 6
    assert (status.status, status.message) == (
        Status.FAILED,
        f"The host name api.iterable.com of GET {US_BASE}/api/channels did not resolve (DNS lookup failed), on all 6 "
        "attempts; check region and api_base_url, and that this machine's DNS resolves Iterable's hosts.",
    )
