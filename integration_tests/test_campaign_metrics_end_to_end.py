"""campaigns_metrics, campaigns_metrics_daily and experiments_metrics against the emulator: exact records, syncs
chained by their state."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from freezegun import freeze_time

from integration_tests.emulator import Dataset, Emulator
from source_iterable.components.metric_row import MetricRowTyping
from source_iterable.components.timestamps import TimestampFields
from source_iterable.source import SourceIterable
from unit_tests.mock_server.helpers import read_stream, records_of

SCHEMAS = SourceIterable().resolved_manifest["schemas"]
ACTIVE_STATES = ("Running", "Recurring", "Scheduled", "Starting")


def typed(row: dict[str, str] | None, stream: str = "campaigns_metrics_daily") -> dict[str, Any]:
    """The emulator's CSV row as the connector must emit it (top-level nulls left out by the serializer)."""
    assert row is not None
    record: dict[str, Any] = dict(row)
    MetricRowTyping(SCHEMAS[stream]["properties"], camel_case=stream == "experiments_metrics").transform(record)
    TimestampFields(parameters={}, timestamp_fields=["creation_date", "last_modified"]).transform(record)
    return {key: value for key, value in record.items() if value is not None}


def without_synced_at(records: list[Any]) -> list[dict[str, Any]]:
    return [{key: value for key, value in record.items() if key != "synced_at"} for record in records]


def requested_ids(emulator: Emulator) -> list[int]:
    return [int(i) for r in emulator.requests if r.path == "/api/campaigns/metrics" for i in r.params["campaignId"]]


def day_of(epoch_ms: int) -> date:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).date()


def sync(stream: str, config: dict[str, Any], state: list[AirbyteStateMessage] | None = None) -> EntrypointOutput:
    return read_stream(stream, config, SyncMode.incremental, state, with_rate_budget=False)


def state_of(output: EntrypointOutput, stream: str) -> list[AirbyteStateMessage]:
    message = output.state_messages[-1].state
    assert message.stream.stream_descriptor.name == stream
    return [message]


def test_full_refresh_emits_every_campaigns_lifetime_row_exactly(emulator, emulator_config):
    output = read_stream("campaigns_metrics", emulator_config, with_rate_budget=False)

    expected = [
        typed(emulator.dataset.campaign_metrics_row(c["id"], date(2025, 1, 1), date(2026, 1, 1)), "campaigns_metrics")
        for c in emulator.dataset.campaigns
    ]
    assert without_synced_at(records_of(output)) == expected
    assert any("_non_numeric_cells" in record for record in expected)
    assert len(emulator.requests) == 2  # one campaigns page, one metrics request for all 12 ids


def test_campaign_that_ends_between_syncs_is_read_until_one_sync_past_its_lookback(emulator, emulator_config):
    campaign = next(c for c in emulator.dataset.campaigns if c["campaignState"] == "Running")
    # Clocks after every date of the data set (the campaigns stream drops records "updated in the future").
    with freeze_time("2026-01-01T00:00:00Z", tick=True):
        first = sync("campaigns_metrics", emulator_config)
    assert campaign["id"] in requested_ids(emulator) and len(records_of(first)) == 12

    campaign.update(campaignState="Finished", endedAt=int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000))
    reads = []
    state = state_of(first, "campaigns_metrics")
    for moment in ("2026-01-10T00:00:00Z", "2026-01-21T00:00:00Z", "2026-01-30T00:00:00Z"):
        emulator.clear_requests()
        with freeze_time(moment, tick=True):
            output = sync("campaigns_metrics", emulator_config, state)
        reads.append(campaign["id"] in requested_ids(emulator))
        state = state_of(output, "campaigns_metrics")

    # 01-10 and 01-21 (the previous sync, 01-10, was within endedAt + 15 days = 01-20), then never again.
    assert reads == [True, True, False]
    synced_at = datetime.fromisoformat(state[0].stream.stream_state.__dict__["synced_at"])
    last_sync = datetime(2026, 1, 30, tzinfo=UTC)
    assert last_sync <= synced_at < last_sync + timedelta(minutes=2)  # the clock ticks while the sync runs
    active = [c["id"] for c in emulator.dataset.campaigns if c["campaignState"] in ACTIVE_STATES]
    assert requested_ids(emulator) == active


def test_daily_rows_of_a_finished_campaign_sum_to_its_lifetime_row(emulator, emulator_config):
    campaign = next(c for c in emulator.dataset.campaigns if c["campaignState"] == "Finished" and c["startAt"])
    first_day, ended_day = day_of(campaign["startAt"]), day_of(campaign["endedAt"])
    last_day = ended_day + timedelta(days=15)
    config = {
        **emulator_config,
        "end_date": str(last_day + timedelta(days=1)),
        "campaign_metrics_daily_days": (last_day - first_day).days + 1,
    }

    daily = [r for r in records_of(sync("campaigns_metrics_daily", config)) if r["id"] == campaign["id"]]
    lifetime = [
        r
        for r in records_of(read_stream("campaigns_metrics", emulator_config, with_rate_budget=False))
        if r["id"] == campaign["id"]
    ]

    assert [r["date"] for r in daily] == [
        str(first_day + timedelta(days=n)) for n in range((last_day - first_day).days + 1)
    ]
    for column in ("total_email_sends", "unique_email_opens_filtered", "purchases", "total_unsubscribes"):
        assert sum(r[column] for r in daily) == lifetime[0][column]
    assert round(sum(r["revenue"] for r in daily), 2) == lifetime[0]["revenue"]


def test_daily_second_sync_reads_the_lookback_days_again_with_exact_rows_and_state(emulator, emulator_config):
    config = {
        **emulator_config,
        "end_date": "2025-12-31",
        "campaign_metrics_daily_days": 2,
        "campaign_metrics_lookback_days": 1,
    }
    first = sync("campaigns_metrics_daily", config)
    emulator.clear_requests()

    second = sync(
        "campaigns_metrics_daily", {**config, "end_date": "2026-01-01"}, state_of(first, "campaigns_metrics_daily")
    )

    active = [
        c["id"]
        for c in emulator.dataset.campaigns
        if c["campaignState"] in ACTIVE_STATES and day_of(c["startAt"]) <= date(2025, 12, 29)
    ]
    assert [(r["date"], r["id"]) for r in records_of(first)] == [
        (d, i) for d in ("2025-12-29", "2025-12-30") for i in active
    ]
    assert records_of(second) == [
        {**typed(emulator.dataset.campaign_metrics_row(i, day, day + timedelta(days=1))), "date": str(day)}
        for day in (date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31))
        for i in active
    ]
    assert [r.params["startDateTime"] for r in emulator.requests if r.path == "/api/campaigns/metrics"] == [
        ["2025-12-29"],
        ["2025-12-30"],
        ["2025-12-31"],
    ]
    assert second.most_recent_state.stream_state.__dict__ == {"date": "2025-12-31"}


def test_19_digit_ids_are_read_in_urls_the_emulator_accepts_and_every_campaign_once(emulator_config):
    with Emulator(Dataset(campaigns=150, active_campaigns=10, campaign_id_digits=19), rate_limits={}) as emu:
        # No end_date: the query is campaignIds and startDateTime, so 63 ids of 19 digits fit (2,027 characters).
        config = {key: value for key, value in emulator_config.items() if key != "end_date"} | {"api_base_url": emu.url}
        output = read_stream("campaigns_metrics", config, with_rate_budget=False)
        metrics = [r for r in emu.requests if r.path == "/api/campaigns/metrics"]

    assert [len(r.params["campaignId"]) for r in metrics] == [63, 63, 24]
    assert {r.status for r in metrics} == {200}
    assert [record["id"] for record in records_of(output)] == [c["id"] for c in emu.dataset.campaigns]


def test_experiments_metrics_emits_each_variant_of_each_experiment_exactly_stamped_with_the_sync_time(
    emulator, emulator_config
):
    with freeze_time("2026-01-02T03:04:05Z"):
        output = sync("experiments_metrics", emulator_config)

    # end_date 2026-01-01 is exclusive: the inclusive endDateTime is 2025-12-31, every day of 2025.
    expected = [
        {**typed(row, "experiments_metrics"), "synced_at": "2026-01-02T03:04:05Z"}
        for experiment in emulator.dataset.experiments
        for row in emulator.dataset.experiment_metrics_rows(experiment, date(2025, 1, 1), date(2026, 1, 1))
    ]
    assert records_of(output) == expected
    assert len(expected) == emulator.dataset.object_counts()["experiments_metrics"]
    assert output.most_recent_state.stream_state.__dict__ == {"synced_at": "2026-01-02T03:04:05Z"}


def test_experiments_metrics_second_sync_asks_only_for_the_campaigns_whose_numbers_can_change(
    emulator, emulator_config
):
    with freeze_time("2026-01-02T00:00:00Z"):
        first = sync("experiments_metrics", emulator_config)
    emulator.clear_requests()

    with freeze_time("2026-01-03T00:00:00Z"):
        second = sync("experiments_metrics", emulator_config, state_of(first, "experiments_metrics"))

    asked = [int(i) for r in emulator.requests if r.path == "/api/experiments/metrics" for i in r.params["campaignId"]]
    assert asked == [c["id"] for c in emulator.dataset.campaigns if c["campaignState"] in ACTIVE_STATES]
    assert records_of(second) == []
    assert second.most_recent_state.stream_state.__dict__ == {"synced_at": "2026-01-03T00:00:00Z"}
