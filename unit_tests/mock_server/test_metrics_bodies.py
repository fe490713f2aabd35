"""Issue 16 §1: a `campaigns/metrics` answer that is not the CSV asked for fails its stream, naming the endpoint and
what came back (short, masked); no state moves past campaigns not read. Rows longer than the header keep their
extra cells; a state in the future is read as now, with a warning.

Campaign 1 runs; campaign 2 ended on 2024-05-20 (within the 15-day lookback of the state, 2024-06-01); the clock is
2024-06-02.
"""

from typing import Any, ClassVar

import pytest
from airbyte_cdk.models import AirbyteStreamStatus, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder
from freezegun import freeze_time

from unit_tests.mock_server.config import API_KEY, a_config
from unit_tests.mock_server.helpers import read_stream, records_of, warnings_of
from unit_tests.mock_server.request_builder import a_paged_request, a_request
from unit_tests.mock_server.response_builder import a_dated_campaign, csv_response, records_response

NOW = "2024-06-02T00:00:00Z"
SYNCED_AT = "2024-06-01T00:00:00Z"
CAMPAIGNS = [
    a_dated_campaign(1, "Running", "2024-01-01T00:00:00Z", started="2024-01-02T00:00:00Z"),
    a_dated_campaign(2, "Finished", "2024-01-01T00:00:00Z", "2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
    # Created since the state and not started: asked, but it has no numbers yet.
    a_dated_campaign(3, "Draft", "2024-06-01T08:00:00Z"),
]
HEADER = ["id", "Total Email Sends"]
STOPS = "The stream stops here, so that its state does not move past campaigns it did not read; retry the sync later."
LIFETIME = "GET /api/campaigns/metrics (3 campaignIds, startDateTime=2024-01-01)"
MULTI_LINE_HTML = (
    "<!DOCTYPE html>\n<html>\n<head><title>503 Service Temporarily Unavailable</title></head>\n"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body>\n</html>\n"
)


def html(body: str) -> HttpResponse:
    return HttpResponse(body, 200, {"Content-Type": "text/html"})


def text(body: str) -> HttpResponse:
    return HttpResponse(body, 200, {"Content-Type": "text/plain"})


def lifetime_request(ids: list[int]) -> HttpRequest:
    return (
        a_request("campaigns/metrics").with_param("campaignId", ids).with_param("startDateTime", "2024-01-01").build()
    )


def day_request(ids: list[int], day: str, following: str) -> HttpRequest:
    return (
        a_request("campaigns/metrics")
        .with_param("campaignId", ids)
        .with_param("startDateTime", day)
        .with_param("endDateTime", following)
        .build()
    )


def list_campaigns(http_mocker: HttpMocker, campaigns: list[dict[str, Any]] = CAMPAIGNS) -> None:
    http_mocker.get(a_paged_request("campaigns", 1, 1000, sort="id").build(), records_response("campaigns", campaigns))


def states_of(output: Any) -> list[dict[str, Any]]:
    return [dict(message.state.stream.stream_state.__dict__) for message in output.state_messages]


BAD_BODIES = [
    pytest.param(
        html("<html><body>Service temporarily unavailable</body></html>"),
        "a body whose first line has no 'id' column (text/html): "
        "'<html><body>Service temporarily unavailable</body></html>'",
        id="html-one-line",
    ),
    pytest.param(
        html(MULTI_LINE_HTML),
        "a body whose first line has no 'id' column (text/html): '<!DOCTYPE html> <html> <head><title>503 Service "
        "Temporarily Unavailable</title></head> <body><center…'",
        id="html-many-lines",
    ),
    pytest.param(text(""), "an empty body", id="empty"),
    pytest.param(text("\r\n\n"), "an empty body", id="blank-lines"),
    pytest.param(
        HttpResponse(f'{{"msg": "Invalid API key {API_KEY}", "code": "BadApiKey"}}', 200),
        "a body whose first line has no 'id' column (no Content-Type): "
        """'{"msg": "Invalid API key ****", "code": "BadApiKey"}'""",
        id="json-error-echoing-the-key",
    ),
    pytest.param(
        text("id,Total Email Sends\n1,5\n<p>Oops</p>,\n2,6\n"),
        "a row (line 3) whose id is '<p>Oops</p>', not a whole number: '<p>Oops</p>,'",
        id="junk-row",
    ),
    pytest.param(
        text("id,Total Email Sends\n1,5\n2,6\n99,7\n"),
        "a row for campaign 99, which was not asked for",
        id="row-of-another-campaign",
    ),
]


@freeze_time(NOW)
@pytest.mark.parametrize("body, what", BAD_BODIES)
def test_given_a_bad_metrics_body_when_incremental_then_stream_fails_naming_endpoint_and_body_and_state_stays(
    http_mocker: HttpMocker, body: HttpResponse, what: str
) -> None:
    list_campaigns(http_mocker)
    http_mocker.get(lifetime_request([1, 2, 3]), body)
    state = StateBuilder().with_stream_state("campaigns_metrics", {"synced_at": SYNCED_AT}).build()

    output = read_stream("campaigns_metrics", a_config().build(), SyncMode.incremental, state, expect_failure=True)

    assert next(error.trace.error.message for error in output.errors) == (
        f"Iterable answered {LIFETIME} with HTTP 200 and {what}, instead of a CSV whose header names 'id'. {STOPS}"
    )
    assert output.errors[0].trace.error.failure_type.value == "system_error"
    assert records_of(output) == []
    assert states_of(output) in ([], [{"synced_at": SYNCED_AT}])
    assert output.get_stream_statuses("campaigns_metrics")[-1] == AirbyteStreamStatus.INCOMPLETE


@freeze_time(NOW)
@pytest.mark.parametrize(
    "body, missing",
    [
        pytest.param(csv_response(HEADER, [[1, 5]]), "1 of the 3 campaigns asked that have started (2)", id="one"),
        pytest.param(csv_response(HEADER, []), "2 of the 3 campaigns asked that have started (1, 2)", id="header-only"),
    ],
)
def test_given_no_row_for_a_started_campaign_when_incremental_then_stream_fails_and_state_stays(
    http_mocker: HttpMocker, body: HttpResponse, missing: str
) -> None:
    list_campaigns(http_mocker)
    http_mocker.get(lifetime_request([1, 2, 3]), body)
    state = StateBuilder().with_stream_state("campaigns_metrics", {"synced_at": SYNCED_AT}).build()

    output = read_stream("campaigns_metrics", a_config().build(), SyncMode.incremental, state, expect_failure=True)

    assert next(error.trace.error.message for error in output.errors) == (
        f"Iterable answered {LIFETIME} with HTTP 200 and no row for {missing}; a campaign deleted since it was listed "
        f"is not asked for again, instead of a CSV whose header names 'id' and one row per campaign asked. {STOPS}"
    )
    assert records_of(output) == []
    assert states_of(output) in ([], [{"synced_at": SYNCED_AT}])


@freeze_time(NOW)
def test_given_no_row_for_a_campaign_not_started_when_incremental_then_the_others_are_emitted_and_state_moves(
    http_mocker: HttpMocker,
) -> None:
    list_campaigns(http_mocker)
    http_mocker.get(lifetime_request([1, 2, 3]), csv_response(HEADER, [[1, 5], [2, 6]]))
    state = StateBuilder().with_stream_state("campaigns_metrics", {"synced_at": SYNCED_AT}).build()

    output = read_stream("campaigns_metrics", a_config().build(), SyncMode.incremental, state)

    assert records_of(output) == [
        {"id": 1, "total_email_sends": 5, "synced_at": NOW},
        {"id": 2, "total_email_sends": 6, "synced_at": NOW},
    ]
    assert states_of(output)[-1] == {"synced_at": NOW}


@freeze_time(NOW)
def test_given_rows_longer_than_the_header_when_read_then_extra_cells_are_kept_in_order(
    http_mocker: HttpMocker,
) -> None:
    list_campaigns(http_mocker, CAMPAIGNS[:1])
    http_mocker.get(lifetime_request([1]), text("id,Total Email Sends\n1,5,surplus,,7\n"))

    output = read_stream("campaigns_metrics", a_config().build())

    assert records_of(output) == [
        {"id": 1, "total_email_sends": 5, "_extra_cells": ["surplus", "", "7"], "synced_at": NOW}
    ]


@freeze_time(NOW)
def test_given_a_synced_at_state_in_the_future_when_incremental_then_warned_read_as_now_and_running_campaigns_read(
    http_mocker: HttpMocker,
) -> None:
    long_finished = a_dated_campaign(
        4, "Finished", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", "2024-02-02T00:00:00Z"
    )
    list_campaigns(http_mocker, [CAMPAIGNS[0], long_finished])
    http_mocker.get(lifetime_request([1]), csv_response(HEADER, [[1, 5]]))
    state = StateBuilder().with_stream_state("campaigns_metrics", {"synced_at": "2030-01-01T00:00:00Z"}).build()

    output = read_stream("campaigns_metrics", a_config().build(), SyncMode.incremental, state)

    assert records_of(output) == [{"id": 1, "total_email_sends": 5, "synced_at": NOW}]
    assert states_of(output)[-1] == {"synced_at": NOW}
    assert (
        "Stream campaigns_metrics: the state's synced_at 2030-01-01T00:00:00Z is in the future (a clock that was "
        f"ahead, or a hand-edited state); it is read as now, {NOW}."
    ) in warnings_of(output)


class TestDaily:
    """campaigns_metrics_daily, with a 1-day lookback and end_date 2024-06-02: days 05-31 and 06-01 from the state."""

    CONFIG: ClassVar[dict[str, Any]] = {
        **a_config().with_end_date("2024-06-02T00:00:00Z").build(),
        "campaign_metrics_lookback_days": 1,
    }
    STATE = StateBuilder().with_stream_state("campaigns_metrics_daily", {"date": "2024-06-01"}).build()

    @freeze_time(NOW)
    @pytest.mark.parametrize("body", [html("<html><body>Bad Gateway</body></html>"), text("")])
    def test_given_a_bad_body_on_the_second_day_then_first_day_emitted_stream_fails_and_state_stays(
        self, http_mocker: HttpMocker, body: HttpResponse
    ) -> None:
        list_campaigns(http_mocker, CAMPAIGNS[:1])
        http_mocker.get(day_request([1], "2024-05-31", "2024-06-01"), csv_response(HEADER, [[1, 4]]))
        http_mocker.get(day_request([1], "2024-06-01", "2024-06-02"), body)

        output = read_stream("campaigns_metrics_daily", self.CONFIG, SyncMode.incremental, self.STATE, True)

        assert records_of(output) == [{"id": 1, "total_email_sends": 4, "date": "2024-05-31"}]
        assert next(error.trace.error.message for error in output.errors).startswith(
            "Iterable answered GET /api/campaigns/metrics (1 campaignId, startDateTime=2024-06-01, "
            "endDateTime=2024-06-02) with HTTP 200 and "
        )
        assert states_of(output) in ([], [{"date": "2024-06-01"}])

    @freeze_time("2024-06-03T12:00:00Z")
    def test_given_a_date_state_in_the_future_then_warned_and_the_lookback_before_today_is_read(
        self, http_mocker: HttpMocker
    ) -> None:
        list_campaigns(http_mocker, CAMPAIGNS[:1])
        http_mocker.get(day_request([1], "2024-06-02", "2024-06-03"), csv_response(HEADER, [[1, 2]]))
        http_mocker.get(day_request([1], "2024-06-03", "2024-06-04"), csv_response(HEADER, [[1, 3]]))
        config = {**a_config().build(), "campaign_metrics_lookback_days": 1}
        state = StateBuilder().with_stream_state("campaigns_metrics_daily", {"date": "2030-01-01"}).build()

        output = read_stream("campaigns_metrics_daily", config, SyncMode.incremental, state)

        assert records_of(output) == [
            {"id": 1, "total_email_sends": 2, "date": "2024-06-02"},
            {"id": 1, "total_email_sends": 3, "date": "2024-06-03"},
        ]
        assert states_of(output)[-1] == {"date": "2024-06-03"}
        assert (
            "Stream campaigns_metrics_daily: the state's date 2030-01-01 is in the future (a clock that was ahead, "
            "or a hand-edited state); it is read as now, 2024-06-03."
        ) in warnings_of(output)
