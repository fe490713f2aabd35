"""Incremental campaigns against the emulator: a campaign whose state changes while its updatedAt stays frozen
reaches the destination at each step (issue: campaign states that never go stale)."""

from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from freezegun import freeze_time

from integration_tests.emulator import Emulator
from unit_tests.mock_server.helpers import read_stream, records_of


def sync(config: dict[str, Any], state: list[AirbyteStateMessage] | None) -> tuple[list[Any], Any]:
    # A clock after every date of the data set (the cursor drops campaigns "updated in the future").
    with freeze_time("2026-01-02T00:00:00Z", tick=True):
        output = read_stream("campaigns", config, SyncMode.incremental, state, with_rate_budget=False)
    return records_of(output), [output.state_messages[-1].state]


def test_a_campaign_moving_scheduled_running_finished_without_an_updated_at_change_is_followed_by_the_destination(
    emulator: Emulator, emulator_config: dict[str, Any]
) -> None:
    campaign = next(c for c in emulator.dataset.campaigns if c["campaignState"] == "Scheduled")
    updated_at = campaign["updatedAt"]
    destination: dict[int, str] = {}  # append + dedup on the primary key: the last record of each id wins
    seen, state = [], None
    for step in range(4):
        if step in (1, 2):
            emulator.dataset.advance_campaign(campaign["id"])
        records, state = sync(emulator_config, state)
        destination.update({record["id"]: record["campaignState"] for record in records})
        seen.append([record["campaignState"] for record in records if record["id"] == campaign["id"]])
        assert destination[campaign["id"]] == campaign["campaignState"]

    assert seen == [["Scheduled"], ["Running"], ["Finished"], []]
    assert campaign["updatedAt"] == updated_at
    stream_state = state[0].stream.stream_state.__dict__
    assert campaign["id"] not in stream_state["open_campaign_ids"]
    final = {"Finished", "Aborted", "Archived", "Recalled"}
    open_ids = [c["id"] for c in emulator.dataset.campaigns if c["campaignState"] not in final]
    assert stream_state["open_campaign_ids"] == open_ids
