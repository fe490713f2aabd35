"""Which campaigns' metrics are read again, on which days, and how many 19-digit ids fit in one metrics URL."""

from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

import pytest
import requests

from source_iterable.components.campaign_selection import (
    LONGEST_HOST,
    Campaign,
    active_on,
    activity_days,
    needs_lifetime_read,
    padded_base_url,
    parse_moment,
    url_batches,
)

LOOKBACK = timedelta(days=15)
# The previous sync listed the campaigns at this moment (the state).
SINCE = datetime(2025, 6, 1, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def a_campaign(
    state: str,
    created: datetime,
    ended: datetime | None = None,
    started: datetime | None = None,
    updated: datetime | None = None,
) -> Campaign:
    return Campaign.from_fields(
        1,
        {
            "campaignState": state,
            "createdAt": ms(created),
            "updatedAt": ms(updated or ended or created),
            "startAt": ms(started) if started else None,
            "endedAt": ms(ended) if ended else None,
        },
    )


LONG_AGO = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("state", ["Running", "Recurring", "Scheduled", "Starting"])
def test_running_or_about_to_run_campaign_is_read_again(state: str) -> None:
    assert needs_lifetime_read(a_campaign(state, LONG_AGO, started=LONG_AGO), SINCE, LOOKBACK)


def test_campaign_ended_within_the_lookback_of_the_previous_sync_is_read_again() -> None:
    ended = SINCE - LOOKBACK + timedelta(hours=1)
    assert needs_lifetime_read(a_campaign("Finished", LONG_AGO, ended=ended), SINCE, LOOKBACK)


def test_campaign_ended_before_the_lookback_of_the_previous_sync_is_left_out() -> None:
    ended = SINCE - LOOKBACK - timedelta(hours=1)
    assert not needs_lifetime_read(a_campaign("Finished", LONG_AGO, ended=ended), SINCE, LOOKBACK)


def test_long_finished_campaign_is_read_once_more_by_the_first_sync_after_its_lookback_then_never() -> None:
    ended = datetime(2025, 5, 20, tzinfo=UTC)
    campaign = a_campaign("Finished", LONG_AGO, ended=ended)
    previous_syncs = [
        datetime(2025, 6, 1, tzinfo=UTC),
        datetime(2025, 6, 8, tzinfo=UTC),
        datetime(2025, 6, 15, tzinfo=UTC),
    ]
    # 2025-06-15 is past endedAt + 15 days (06-04): the sync after the one on 06-01 reads it its last time.
    assert [needs_lifetime_read(campaign, since, LOOKBACK) for since in previous_syncs] == [True, False, False]


def test_campaign_created_since_the_previous_sync_is_read_whatever_its_state() -> None:
    assert needs_lifetime_read(a_campaign("Draft", SINCE + timedelta(minutes=5)), SINCE, LOOKBACK)


def test_old_draft_is_left_out() -> None:
    assert not needs_lifetime_read(a_campaign("Draft", LONG_AGO), SINCE, LOOKBACK)


def test_first_sync_reads_every_campaign() -> None:
    ended = datetime(2020, 1, 1, tzinfo=UTC)
    assert needs_lifetime_read(a_campaign("Finished", datetime(2019, 1, 1, tzinfo=UTC), ended=ended), EPOCH, LOOKBACK)


def test_campaign_without_dates_is_read() -> None:
    assert needs_lifetime_read(Campaign.from_fields(3, {"campaignState": "Finished"}), SINCE, LOOKBACK)


def test_stopped_campaign_without_end_date_is_judged_by_its_last_update() -> None:
    recent = a_campaign("Aborted", LONG_AGO, updated=SINCE - timedelta(days=2))
    old = a_campaign("Aborted", LONG_AGO, updated=SINCE - timedelta(days=40))
    assert (needs_lifetime_read(recent, SINCE, LOOKBACK), needs_lifetime_read(old, SINCE, LOOKBACK)) == (True, False)


@pytest.mark.parametrize(
    "value",
    [
        1748736000000,
        "1748736000000",
        "2025-06-01T00:00:00Z",
        "2025-06-01T00:00:00+00:00",
        "2025-06-01T02:00:00+02:00",
        "2025-06-01 00:00:00 +00:00",
        "2025-06-01T00:00:00",
    ],
)
def test_campaign_times_parse_from_epoch_ms_or_rfc_3339(value: object) -> None:
    assert parse_moment(value) == SINCE


@pytest.mark.parametrize("value", [None, "", "soon", True, [], 10**30])
def test_unreadable_campaign_time_is_none(value: object) -> None:
    assert parse_moment(value) is None


def test_activity_runs_from_start_day_to_end_day_plus_lookback() -> None:
    campaign = a_campaign(
        "Finished", LONG_AGO, started=datetime(2025, 5, 1, 22, tzinfo=UTC), ended=datetime(2025, 5, 3, 1, tzinfo=UTC)
    )
    days = activity_days(campaign, LOOKBACK)
    assert days == (date(2025, 5, 1), date(2025, 5, 18))
    assert [
        active_on(days, day) for day in (date(2025, 4, 30), date(2025, 5, 1), date(2025, 5, 18), date(2025, 5, 19))
    ] == [False, True, True, False]


def test_running_campaign_is_active_every_day_from_its_start_and_a_draft_never() -> None:
    running = activity_days(a_campaign("Running", LONG_AGO, started=datetime(2025, 5, 1, tzinfo=UTC)), LOOKBACK)
    draft = activity_days(a_campaign("Draft", LONG_AGO), LOOKBACK)
    assert (running, active_on(running, date(2030, 1, 1)), draft, active_on(draft, date(2025, 5, 2))) == (
        (date(2025, 5, 1), None),
        True,
        None,
        False,
    )


DAY = [("startDateTime", "2025-06-01"), ("endDateTime", "2025-06-02")]


def prepared_url(base_url: str, ids: list[str]) -> str:
    """The URL requests sends for a batch (what the connector's requester builds)."""
    params = [("campaignId", campaign_id) for campaign_id in ids] + DAY
    return requests.Request("GET", base_url, params=params).prepare().url or ""


def test_19_digit_ids_fill_each_batch_to_just_under_2048_characters_on_the_eu_host() -> None:
    base = padded_base_url("https://api.iterable.com", "/api/campaigns/metrics")
    ids = [str(10**18 + n) for n in range(200)]

    batches = url_batches(ids, base, DAY)

    assert base == "https://api.eu.iterable.com/api/campaigns/metrics"
    assert [len(batch) for batch in batches] == [62, 62, 62, 14]
    assert [campaign_id for batch in batches for campaign_id in batch] == ids
    assert all(len(prepared_url(base, batch)) < 2048 for batch in batches)
    assert len(prepared_url(base, batches[0] + batches[1][:1])) >= 2048


def test_batches_are_sized_for_the_eu_host_even_on_a_shorter_emulator_host() -> None:
    assert padded_base_url("http://127.0.0.1:8123", "/api/campaigns/metrics") == f"{LONGEST_HOST}/api/campaigns/metrics"
    assert (
        padded_base_url("https://iterable-proxy.internal.example.com", "/p")
        == "https://iterable-proxy.internal.example.com/p"
    )


def test_no_ids_no_batch_and_an_id_too_long_for_any_url_is_an_error() -> None:
    assert url_batches([], "https://h/p", DAY) == []
    with pytest.raises(ValueError, match="alone makes a metrics URL"):
        url_batches(["9" * 2100], "https://h/p", DAY)


def test_a_batch_url_length_counts_the_encoded_parameters() -> None:
    base = "https://api.iterable.com/api/campaigns/metrics"
    batches = url_batches(
        ["1", "22", "333"],
        base,
        DAY,
        max_length=len(base) + 1 + len(urlencode([("campaignId", "1"), ("campaignId", "22"), *DAY])) + 1,
    )
    assert batches == [["1", "22"], ["333"]]
