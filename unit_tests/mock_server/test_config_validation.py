"""Config validation (the spec, then spec.config_normalization_rules): which field, what was expected; no request
is sent.

`check` reports a bad config as a FAILED connection status; `discover` and `read` as a config_error trace.
"""

from typing import Any

import pytest
from airbyte_cdk.models import FailureType, Status, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.models.outcome import ExpectedOutcome

from source_iterable.source import SourceIterable
from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of, run_check
from unit_tests.mock_server.request_builder import a_request
from unit_tests.mock_server.response_builder import records_response

BAD_CONFIGS = [
    pytest.param(
        a_config().with_start_date("garbage").build(),
        "Config field 'start_date' must be a date 2024-01-01 or a UTC date-time 2024-01-01T00:00:00Z; got 'garbage'.",
        id="start_date-garbage",
    ),
    pytest.param(
        a_config().with_start_date("2024-02-30").build(),
        "Config field 'start_date' must be a date 2024-01-01 or a UTC date-time 2024-01-01T00:00:00Z; got '2024-02-30'.",
        id="start_date-impossible-day",
    ),
    pytest.param(
        a_config().with_start_date("2999-01-01T00:00:00Z").build(),
        "Config field 'start_date' is in the future (2999-01-01T00:00:00Z); use a date up to today (UTC).",
        id="start_date-future",
    ),
    pytest.param(
        a_config().with_end_date("31/12/2024").build(),
        "Config field 'end_date' must be a date 2024-01-01 or a UTC date-time 2024-01-01T00:00:00Z; got '31/12/2024'.",
        id="end_date-garbage",
    ),
    pytest.param(
        a_config().with_start_date("2024-03-01").with_end_date("2024-03-01T00:00:00Z").build(),
        "Config field 'end_date' (2024-03-01T00:00:00Z) must be after 'start_date' (2024-03-01T00:00:00Z).",
        id="end_date-not-after-start",
    ),
    pytest.param(
        a_config().with_api_base_url("http://iterable.example.com").build(),
        "Config field 'api_base_url' must be an https:// URL, or http:// to a loopback host (127.0.0.1, localhost, "
        "::1); got 'http://iterable.example.com'.",
        id="api_base_url-plain-http-remote",
    ),
]


@pytest.mark.parametrize("config, message", BAD_CONFIGS)
def test_given_bad_config_when_check_then_failed_status_with_the_message(
    http_mocker: HttpMocker, config: dict, message: str
) -> None:
    output = run_check(config)

    status = output.connection_status_messages[-1].connectionStatus
    assert (status.status, status.message) == (Status.FAILED, message)


@pytest.mark.parametrize("config, message", BAD_CONFIGS)
def test_given_bad_config_when_discover_then_config_error_trace_with_the_message(
    http_mocker: HttpMocker, config: dict, message: str
) -> None:
    output = discover(
        SourceIterable(config=config),
        config,
        expected_outcome=ExpectedOutcome.EXPECT_EXCEPTION,
    )

    error = output.errors[-1].trace.error
    assert (error.failure_type, error.message) == (FailureType.config_error, message)


SPEC_VIOLATIONS = [
    pytest.param({"api_key": 12345}, "Config field 'api_key' must be a string.", id="api_key-number"),
    pytest.param({"api_key": ["key"]}, "Config field 'api_key' must be a string.", id="api_key-list"),
    pytest.param({"region": 5}, "Config field 'region' must be a string; got 5.", id="region-number"),
    pytest.param({"region": "APAC"}, "Config field 'region' must be one of US, EU; got 'APAC'.", id="region-unknown"),
    pytest.param(
        {"start_date": ["2024-01-01"]},
        "Config field 'start_date' must be a string; got ['2024-01-01'].",
        id="start_date-list",
    ),
    pytest.param(
        {"window_days": "30"}, "Config field 'window_days' must be an integer; got '30'.", id="window_days-text"
    ),
    pytest.param({"lookback_window": None}, "Config field 'lookback_window' must be an integer; got None.", id="null"),
]


def run_command(command: str, config: dict[str, Any]) -> EntrypointOutput:
    if command == "check":
        return run_check(config)
    if command == "discover":
        return discover(SourceIterable(config=config), config, expected_outcome=ExpectedOutcome.EXPECT_EXCEPTION)
    return read_stream("channels", config, SyncMode.full_refresh, expect_failure=True)


@pytest.mark.parametrize("change, message", SPEC_VIOLATIONS)
@pytest.mark.parametrize("command", ["check", "discover", "read"])
def test_given_a_field_of_the_wrong_type_or_value_when_run_through_the_cdk_entrypoint_then_one_config_error_names_it(
    http_mocker: HttpMocker, command: str, change: dict[str, Any], message: str
) -> None:
    """The CDK's entrypoint (its test helpers) has no hook between the source's `configure` and `check`'s own
    validation, so there a spec violation ends `check` with a config_error trace, not a FAILED status (the console
    script reports a status: integration_tests/test_config_errors_end_to_end.py). No request is sent."""
    output = run_command(command, {**a_config().build(), **change})

    assert [(e.trace.error.failure_type, e.trace.error.message) for e in output.errors] == [
        (FailureType.config_error, message)
    ]
    assert output.connection_status_messages == []
    assert records_of(output) == []


def test_given_bad_start_date_when_read_then_config_error_and_no_request(
    http_mocker: HttpMocker,
) -> None:
    output = read_stream(
        "channels",
        a_config().with_start_date("yesterday").build(),
        SyncMode.full_refresh,
        expect_failure=True,
    )

    assert output.errors[-1].trace.error.failure_type == FailureType.config_error
    assert records_of(output) == []


@pytest.mark.parametrize(
    "api_base_url",
    [
        pytest.param("http://127.0.0.1:8123", id="ipv4-loopback"),
        pytest.param("http://127.5.6.7:8123/", id="ipv4-loopback-range"),
        pytest.param("http://localhost:8123", id="localhost"),
        pytest.param("http://[::1]:8123", id="ipv6-loopback"),
        pytest.param("https://iterable-proxy.example.com", id="https-remote"),
    ],
)
def test_given_allowed_api_base_url_when_read_then_requests_go_to_it(
    http_mocker: HttpMocker, api_base_url: str
) -> None:
    http_mocker.get(
        a_request("channels", base=api_base_url.rstrip("/")).build(),
        records_response("channels", [{"id": 1}]),
    )

    output = read_stream("channels", a_config().with_api_base_url(api_base_url).build())

    assert records_of(output) == [{"id": 1}]


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(
            {
                "start_date": "2024-01-01T00:00:00Z",
                "region": "US",
                "lookback_window": 60,
            },
            id="airbyte-config",
        ),
        pytest.param(
            {"start_date": "2024-01-01T00:00:00Z", "end_date": "2024-12-31T00:00:00Z"},
            id="airbyte-config-end-date",
        ),
        pytest.param(
            {"start_date": "2024-01-01T00:00:00Z", "end_date": ""},
            id="airbyte-config-empty-end-date",
        ),
        pytest.param({"start_date": "2024-01-01"}, id="date-only"),
        pytest.param({"start_date": "2024-01-01T00:00:00.000Z"}, id="fractional-seconds"),
    ],
)
def test_given_existing_airbyte_config_shapes_when_read_then_accepted(http_mocker: HttpMocker, config: dict) -> None:
    http_mocker.get(a_request("channels").build(), records_response("channels", [{"id": 1}]))

    output = read_stream("channels", {**a_config().build(), **config})

    assert records_of(output) == [{"id": 1}]


@pytest.mark.parametrize(
    "start_date, end_date, derived",
    [
        pytest.param(
            "2024-01-01",
            None,
            {"start_datetime": "2024-01-01T00:00:00Z"},
            id="date-only",
        ),
        pytest.param(
            "2024-01-01T05:06:07Z",
            None,
            {"start_datetime": "2024-01-01T05:06:07Z"},
            id="date-time",
        ),
        pytest.param(
            "2024-01-01T05:06:07.250Z",
            None,
            {"start_datetime": "2024-01-01T05:06:07Z"},
            id="fraction-dropped",
        ),
        pytest.param(
            "2024-01-01",
            "2024-02-01",
            {
                "start_datetime": "2024-01-01T00:00:00Z",
                "end_datetime": "2024-02-01T00:00:00Z",
            },
            id="end-date-only",
        ),
    ],
)
def test_given_start_and_end_dates_when_source_built_then_normalised_datetimes_are_derived(
    start_date: str, end_date: str, derived: dict
) -> None:
    config = a_config().with_start_date(start_date).build()
    if end_date:
        config["end_date"] = end_date

    normalised = SourceIterable(config=config).configure(config, "/tmp")

    assert {key: normalised[key] for key in derived} == derived
    assert ("end_datetime" in normalised) == (end_date is not None)
