"""Incremental campaigns: the state keeps the ids of the campaigns not in a final state when last emitted
(`open_campaign_ids`), which are emitted every sync whatever their updatedAt until emitted in a final state
(Finished, Aborted, Archived, Recalled), plus every campaign whose updatedAt moved."""

from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of
from unit_tests.mock_server.request_builder import a_paged_request
from unit_tests.mock_server.response_builder import a_campaign, records_response

JAN_1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z, the saved cursor below
SAVED = "2024-01-01T00:00:00.000Z"


def a_campaign_in(campaign_id: int, state: str, updated_at: int = JAN_1 - 1000) -> dict[str, Any]:
    return {**a_campaign(campaign_id, updated_at), "campaignState": state}


def _read(http_mocker: HttpMocker, campaigns: list[dict[str, Any]], stream_state: dict[str, Any] | None) -> Any:
    http_mocker.get(a_paged_request("campaigns", sort="id").build(), records_response("campaigns", campaigns))
    state = StateBuilder().with_stream_state("campaigns", stream_state).build() if stream_state is not None else None
    return read_stream("campaigns", a_config().build(), SyncMode.incremental, state)


def _emitted(output: Any) -> list[tuple[int, str]]:
    return [(record["id"], record["campaignState"]) for record in records_of(output)]


def test_given_an_open_campaign_that_started_without_an_updated_at_change_when_read_then_emitted_and_kept(
    http_mocker: HttpMocker,
) -> None:
    campaigns = [a_campaign_in(1, "Running"), a_campaign_in(2, "Finished")]

    output = _read(http_mocker, campaigns, {"updatedAt": SAVED, "open_campaign_ids": [1]})

    assert _emitted(output) == [(1, "Running")]
    assert output.most_recent_state.stream_state.__dict__ == {"updatedAt": SAVED, "open_campaign_ids": [1]}


def test_given_open_campaigns_now_final_without_an_updated_at_change_when_read_then_emitted_once_and_dropped(
    http_mocker: HttpMocker,
) -> None:
    finals = ["Finished", "Aborted", "Archived", "Recalled"]
    campaigns = [a_campaign_in(i, state) for i, state in enumerate(finals, start=1)]

    output = _read(http_mocker, campaigns, {"updatedAt": SAVED, "open_campaign_ids": [1, 2, 3, 4]})

    assert _emitted(output) == [(1, "Finished"), (2, "Aborted"), (3, "Archived"), (4, "Recalled")]
    assert output.most_recent_state.stream_state.__dict__ == {"updatedAt": SAVED, "open_campaign_ids": []}


def test_given_campaigns_updated_in_states_that_are_not_final_when_read_then_their_ids_are_kept(
    http_mocker: HttpMocker,
) -> None:
    opens = ["Draft", "Ready", "Scheduled", "Starting", "Running", "Recurring", "Recalling", "SomethingNew"]
    campaigns = [a_campaign_in(i, state, JAN_1 + i) for i, state in enumerate(opens, start=1)]

    output = _read(http_mocker, campaigns, {"updatedAt": SAVED, "open_campaign_ids": []})

    assert _emitted(output) == list(enumerate(opens, start=1))
    assert output.most_recent_state.stream_state.__dict__ == {
        "updatedAt": "2024-01-01T00:00:00.008Z",
        "open_campaign_ids": [1, 2, 3, 4, 5, 6, 7, 8],
    }


def test_given_open_ids_and_moved_campaigns_when_read_then_both_and_nothing_else(http_mocker: HttpMocker) -> None:
    campaigns = [
        a_campaign_in(1, "Scheduled"),  # open when last emitted, unchanged
        a_campaign_in(2, "Running"),  # not in the state, not moved: emitted final before, or never open
        a_campaign_in(3, "Finished", JAN_1 + 5),  # moved
        a_campaign_in(4, "Recurring", JAN_1 + 9),  # moved, open
    ]

    output = _read(http_mocker, campaigns, {"updatedAt": SAVED, "open_campaign_ids": [1, 99]})

    assert _emitted(output) == [(1, "Scheduled"), (3, "Finished"), (4, "Recurring")]
    # 99 is no longer listed (deleted): dropped.
    assert output.most_recent_state.stream_state.__dict__ == {
        "updatedAt": "2024-01-01T00:00:00.009Z",
        "open_campaign_ids": [1, 4],
    }


def test_given_the_plain_updated_at_state_of_0_2_0_when_read_then_every_campaign_once_and_open_ids_from_now_on(
    http_mocker: HttpMocker,
) -> None:
    campaigns = [a_campaign_in(1, "Finished"), a_campaign_in(2, "Scheduled"), a_campaign_in(3, "Running", JAN_1 + 1)]

    output = _read(http_mocker, campaigns, {"updatedAt": SAVED})

    assert _emitted(output) == [(1, "Finished"), (2, "Scheduled"), (3, "Running")]
    assert output.most_recent_state.stream_state.__dict__ == {
        "updatedAt": "2024-01-01T00:00:00.001Z",
        "open_campaign_ids": [2, 3],
    }


def test_given_the_full_refresh_state_airbytes_connector_leaves_when_read_then_every_campaign_and_no_platform_key(
    http_mocker: HttpMocker,
) -> None:
    campaigns = [a_campaign_in(1, "Finished"), a_campaign_in(2, "Scheduled")]

    output = _read(http_mocker, campaigns, {"__ab_no_cursor_state_message": True})

    assert _emitted(output) == [(1, "Finished"), (2, "Scheduled")]
    assert output.most_recent_state.stream_state.__dict__ == {
        "updatedAt": "2023-12-31T23:59:59.000Z",
        "open_campaign_ids": [2],
    }


def test_given_open_ids_that_are_not_campaign_ids_when_read_then_config_error_naming_the_value(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_paged_request("campaigns", sort="id").build(), records_response("campaigns", [a_campaign(1)]))
    stream_state = {"updatedAt": SAVED, "open_campaign_ids": [1, "x"]}
    state = StateBuilder().with_stream_state("campaigns", stream_state).build()

    output = read_stream("campaigns", a_config().build(), SyncMode.incremental, state, expect_failure=True)

    error = output.errors[0].trace.error
    assert (error.failure_type.value, error.message) == (
        "config_error",
        "The state of stream 'campaigns' has open_campaign_ids [1, 'x'], which is not a list of campaign ids. "
        "Remove open_campaign_ids from the state (every campaign is then emitted once) or reset the stream.",
    )
