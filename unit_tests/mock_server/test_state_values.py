"""Issue 12 §6: cursor values of an incoming state in any form that names an instant are accepted and rewritten to
the stream's cursor form; anything else is a config error naming the stream and the value. Also: api_base_url
with a query, fragment or user info is refused by name, and the end-of-sync error keeps its causes' failure type."""

from typing import Any

import pytest
from airbyte_cdk.models import FailureType, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.source import SourceIterable
from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of
from unit_tests.mock_server.request_builder import a_paged_request
from unit_tests.mock_server.response_builder import a_campaign, records_response

JAN_15_MS = 1_705_276_800_000  # 2024-01-15T00:00:00Z
JAN_15_REST = "2024-01-15T00:00:00.000Z"  # the REST cursors' form (RFC 3339 with milliseconds)


def normalised(stream: str, stream_state: dict[str, Any]) -> dict[str, Any]:
    state = StateBuilder().with_stream_state(stream, stream_state).build()
    SourceIterable(state=state)
    return state[0].stream.stream_state.__dict__


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(JAN_15_MS, id="epoch-ms-int"),
        pytest.param(str(JAN_15_MS), id="epoch-ms-string"),
        pytest.param(JAN_15_MS // 1000, id="epoch-seconds"),
        pytest.param("2024-01-15T00:00:00Z", id="iso"),
        pytest.param("2024-01-15", id="date"),
        pytest.param("2024-01-15T05:30:00+05:30", id="iso-offset"),
        pytest.param("2024-01-15 00:00:00 +00:00", id="iterable-form"),
    ],
)
def test_given_an_instant_in_any_form_on_a_rest_cursor_then_it_becomes_rfc3339_with_milliseconds(value: Any) -> None:
    assert normalised("campaigns", {"updatedAt": value}) == {"updatedAt": JAN_15_REST}


@pytest.mark.parametrize(
    "value",
    [JAN_15_MS, str(JAN_15_MS), "2024-01-15", "2024-01-15 00:00:00 +00:00", "2024-01-15T01:00:00+01:00"],
)
def test_given_an_instant_in_any_form_on_an_export_cursor_then_it_becomes_rfc3339(value: Any) -> None:
    assert normalised("email_send", {"createdAt": value}) == {"createdAt": "2024-01-15T00:00:00Z"}


def test_given_per_partition_template_states_then_each_partition_cursor_is_normalised() -> None:
    stream_state = {
        "states": [
            {"partition": {"templateType": "Base", "messageMedium": "Email"}, "cursor": {"updatedAt": "2024-01-15"}}
        ],
        "state": {"updatedAt": "2024-01-15T00:00:00Z"},
        "use_global_cursor": False,
    }

    assert normalised("templates", stream_state) == {
        "states": [
            {"partition": {"templateType": "Base", "messageMedium": "Email"}, "cursor": {"updatedAt": JAN_15_REST}}
        ],
        "state": {"updatedAt": JAN_15_REST},
        "use_global_cursor": False,
    }


@pytest.mark.parametrize(
    "stream, field, value, shown",
    [
        pytest.param("campaigns", "updatedAt", "banana", '"banana"', id="banana"),
        pytest.param("campaigns", "updatedAt", None, "null", id="null"),
        pytest.param("email_send", "createdAt", True, "true", id="boolean"),
        pytest.param("templates", "updatedAt", "", '""', id="empty"),
    ],
)
def test_given_a_cursor_value_that_is_not_an_instant_then_config_error_naming_stream_and_value(
    stream: str, field: str, value: Any, shown: str
) -> None:
    with pytest.raises(AirbyteTracedException) as error:
        normalised(stream, {field: value})

    assert error.value.failure_type == FailureType.config_error
    assert error.value.message == (
        f"The state of stream '{stream}' has {field} {shown}, which is not a date: give epoch milliseconds "
        "(1704067200000) or an ISO 8601 date-time (2024-01-01T00:00:00Z)."
    )


def test_given_an_iso_state_on_campaigns_when_read_then_older_campaigns_dropped_and_state_in_rfc3339(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        a_paged_request("campaigns", sort="id").build(),
        records_response(
            "campaigns", [a_campaign(1, updated_at=JAN_15_MS - 1), a_campaign(2, updated_at=JAN_15_MS + 1)]
        ),
    )
    state = (
        StateBuilder()
        .with_stream_state("campaigns", {"updatedAt": "2024-01-15T00:00:00Z", "open_campaign_ids": []})
        .build()
    )

    output = read_stream("campaigns", a_config().build(), SyncMode.incremental, state)

    assert [record["id"] for record in records_of(output)] == [2]
    assert output.most_recent_state.stream_state.__dict__ == {
        "updatedAt": "2024-01-15T00:00:00.001Z",
        "open_campaign_ids": [],
    }


@pytest.mark.parametrize(
    "url, part",
    [
        pytest.param("https://api.iterable.com?x=1", "a query (?…)", id="query"),
        pytest.param("https://api.iterable.com/#top", "a fragment (#…)", id="fragment"),
        pytest.param("https://user:pw@api.iterable.com", "user info (…@)", id="user-info"),
    ],
)
def test_given_api_base_url_with_more_than_a_base_when_read_then_config_error_naming_the_field(
    url: str, part: str
) -> None:
    output = read_stream("channels", a_config().with_api_base_url(url).build(), expect_failure=True)

    error = output.errors[-1].trace.error
    assert (error.failure_type.value, error.message) == (
        "config_error",
        f"Config field 'api_base_url' must not contain {part}: give only the scheme, host and optional port, for "
        "example https://api.iterable.com.",
    )


def test_given_api_base_url_with_surrounding_whitespace_when_read_then_requests_go_to_the_stripped_host(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_paged_request("campaigns", sort="id").build(), records_response("campaigns", [a_campaign(1)]))

    output = read_stream("campaigns", a_config().with_api_base_url("  https://api.iterable.com/ \n").build())

    assert [record["id"] for record in records_of(output)] == [1]


def test_given_a_stream_failing_on_iterable_when_read_then_the_final_error_keeps_system_error_and_its_message(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_paged_request("campaigns", sort="id").build(), HttpResponse("", 200))

    output = read_stream("campaigns", a_config().build(), expect_failure=True)

    final = output.errors[-1].trace.error
    assert (final.failure_type.value, final.message) == (
        "system_error",
        "1 stream(s) did not sync: campaigns: Iterable answered GET /api/campaigns page 1 with HTTP 200 and an empty "
        "body, instead of JSON with 'campaigns'. The stream stops here, so that its state does not move past records "
        "it did not read; retry the sync later.",
    )
