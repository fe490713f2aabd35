"""experiments_metrics: `GET experiments/metrics` (CSV, one row per experiment variant) for the campaigns that
campaigns_metrics reads, in URL-sized batches; snake_cased columns typed one type each; bad bodies fail the stream
and move no state. The clock is 2024-06-02."""

from typing import Any

import pytest
from airbyte_cdk.models import AirbyteStreamStatus, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder
from freezegun import freeze_time

from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of
from unit_tests.mock_server.request_builder import a_paged_request, a_request
from unit_tests.mock_server.response_builder import a_campaign, a_dated_campaign, csv_response, records_response

NOW = "2024-06-02T00:00:00Z"
HEADER = [
    "campaignId",
    "experimentId",
    "templateId",
    "name",
    "type",
    "creationDate",
    "lastModified",
    "improvement",
    "confidence",
    "Total Email Sends",
    "Unique Email Opens (filtered)",
]
STOPS = "The stream stops here, so that its state does not move past campaigns it did not read; retry the sync later."
EXPECTED = "a CSV whose header names 'campaignId', 'experimentId' and 'templateId'"


def experiments_request(ids: list[int], end: str | None = None) -> HttpRequest:
    builder = a_request("experiments/metrics").with_param("campaignId", ids).with_param("startDateTime", "2024-01-01")
    return (builder.with_param("endDateTime", end) if end else builder).build()


def list_campaigns(http_mocker: HttpMocker, campaigns: list[dict[str, Any]]) -> None:
    http_mocker.get(a_paged_request("campaigns", 1, 1000, sort="id").build(), records_response("campaigns", campaigns))


def states_of(output: Any) -> list[dict[str, Any]]:
    return [dict(message.state.stream.stream_state.__dict__) for message in output.state_messages]


@freeze_time(NOW)
def test_given_two_variants_when_read_then_one_record_each_columns_snake_cased_and_typed_one_type_each(
    http_mocker: HttpMocker,
) -> None:
    list_campaigns(http_mocker, [a_campaign(5), a_campaign(6)])
    http_mocker.get(
        experiments_request([5, 6]),
        csv_response(
            HEADER,
            [
                [
                    5,
                    71,
                    401,
                    "Spring, subject lines",
                    "SubjectLine",
                    "2024-03-01 10:00:00 +00:00",
                    "1709300000000",
                    "",
                    "",
                    120,
                    40,
                ],
                [
                    5,
                    71,
                    402,
                    "Spring, subject lines",
                    "SubjectLine",
                    "2024-03-01 10:00:00 +00:00",
                    "1709300000000",
                    "12.5",
                    "N/A",
                    118,
                    47,
                ],
            ],
        ),
    )

    output = read_stream("experiments_metrics", a_config().build())

    common = {
        "campaign_id": 5,
        "experiment_id": 71,
        "name": "Spring, subject lines",
        "type": "SubjectLine",
        "creation_date": "2024-03-01T10:00:00Z",
        "last_modified": "2024-03-01T13:33:20Z",
        "synced_at": NOW,
    }
    assert records_of(output) == [
        {**common, "template_id": 401, "total_email_sends": 120, "unique_email_opens_filtered": 40},
        {
            **common,
            "template_id": 402,
            "improvement": 12.5,
            "total_email_sends": 118,
            "unique_email_opens_filtered": 47,
            "_non_numeric_cells": {"confidence": "N/A"},
        },
    ]


@freeze_time(NOW)
def test_given_headers_spelled_as_words_when_read_then_the_same_columns(http_mocker: HttpMocker) -> None:
    list_campaigns(http_mocker, [a_campaign(5)])
    http_mocker.get(
        experiments_request([5]),
        csv_response(["Campaign Id", "Experiment Id", "Template Id", "Total Email Sends"], [[5, 71, 401, 9]]),
    )

    output = read_stream("experiments_metrics", a_config().build())

    assert records_of(output) == [
        {"campaign_id": 5, "experiment_id": 71, "template_id": 401, "total_email_sends": 9, "synced_at": NOW}
    ]


@freeze_time(NOW)
def test_given_an_account_without_experiments_when_incremental_then_no_record_no_error_and_state_moves(
    http_mocker: HttpMocker,
) -> None:
    list_campaigns(http_mocker, [a_campaign(5)])
    http_mocker.get(experiments_request([5]), csv_response(HEADER, []))

    output = read_stream("experiments_metrics", a_config().build(), SyncMode.incremental)

    assert (records_of(output), output.errors) == ([], [])
    assert states_of(output)[-1] == {"synced_at": NOW}


@freeze_time(NOW)
def test_given_end_date_when_read_then_the_inclusive_end_is_the_day_before_it(http_mocker: HttpMocker) -> None:
    list_campaigns(http_mocker, [a_campaign(5)])
    http_mocker.get(experiments_request([5], end="2024-05-31"), csv_response(HEADER, []))

    output = read_stream("experiments_metrics", a_config().with_end_date("2024-06-01T00:00:00Z").build())

    assert (records_of(output), output.errors) == ([], [])


@freeze_time(NOW)
def test_given_state_when_incremental_then_the_campaigns_campaigns_metrics_would_read_are_asked(
    http_mocker: HttpMocker,
) -> None:
    campaigns = [
        a_dated_campaign(1, "Running", "2024-01-01T00:00:00Z", started="2024-01-02T00:00:00Z"),
        a_dated_campaign(2, "Finished", "2024-01-01T00:00:00Z", "2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
        a_dated_campaign(3, "Finished", "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
        a_dated_campaign(4, "Draft", "2024-06-01T08:00:00Z"),
    ]
    list_campaigns(http_mocker, campaigns)
    http_mocker.get(experiments_request([1, 2, 4]), csv_response(HEADER[:3], [[2, 70, 401], [2, 70, 402]]))
    state = StateBuilder().with_stream_state("experiments_metrics", {"synced_at": "2024-06-01T00:00:00Z"}).build()

    output = read_stream("experiments_metrics", a_config().build(), SyncMode.incremental, state)

    assert [(r["experiment_id"], r["template_id"]) for r in records_of(output)] == [(70, 401), (70, 402)]
    assert states_of(output)[-1] == {"synced_at": NOW}


def test_given_150_campaigns_with_19_digit_ids_when_read_then_batches_of_63_63_and_24_fit_2048_characters(
    http_mocker: HttpMocker,
) -> None:
    ids = [10**18 + n for n in range(150)]
    list_campaigns(http_mocker, [a_campaign(i) for i in ids])
    # 63 ids make a URL of 2,029 characters on the EU host (2 more than campaigns/metrics); 64 would be 2,060.
    for batch in (ids[:63], ids[63:126], ids[126:]):
        http_mocker.get(experiments_request(batch), csv_response(HEADER[:3], [[batch[0], 1, 2]]))

    output = read_stream("experiments_metrics", a_config().build())

    assert [record["campaign_id"] for record in records_of(output)] == [ids[0], ids[63], ids[126]]


@freeze_time(NOW)
@pytest.mark.parametrize(
    "body, what",
    [
        pytest.param(
            HttpResponse("<html><body>Bad Gateway</body></html>", 200, {"Content-Type": "text/html"}),
            "a body whose first line lacks the 'campaignId', 'experimentId' and 'templateId' columns (text/html): "
            "'<html><body>Bad Gateway</body></html>'",
            id="html",
        ),
        pytest.param(HttpResponse("", 200, {"Content-Type": "text/csv"}), "an empty body", id="empty"),
        pytest.param(
            csv_response(HEADER[:3], [[1, 70, "control"]]),
            "a row (line 2) whose templateId is 'control', not a whole number: '1,70,control'",
            id="template-not-a-number",
        ),
        pytest.param(
            csv_response(HEADER[:3], [[1, 70, 401], [9, 90, 901]]),
            "a row for campaign 9, which was not asked for",
            id="row-of-another-campaign",
        ),
    ],
)
def test_given_a_bad_body_when_incremental_then_stream_fails_naming_endpoint_and_body_and_state_stays(
    http_mocker: HttpMocker, body: HttpResponse, what: str
) -> None:
    list_campaigns(
        http_mocker, [a_dated_campaign(1, "Running", "2024-01-01T00:00:00Z", started="2024-01-02T00:00:00Z")]
    )
    http_mocker.get(experiments_request([1]), body)
    state = StateBuilder().with_stream_state("experiments_metrics", {"synced_at": "2024-06-01T00:00:00Z"}).build()

    output = read_stream("experiments_metrics", a_config().build(), SyncMode.incremental, state, expect_failure=True)

    assert next(error.trace.error.message for error in output.errors) == (
        "Iterable answered GET /api/experiments/metrics (1 campaignId, startDateTime=2024-01-01) with HTTP 200 and "
        f"{what}, instead of {EXPECTED}. {STOPS}"
    )
    assert records_of(output) == []
    assert states_of(output) in ([], [{"synced_at": "2024-06-01T00:00:00Z"}])
    assert output.get_stream_statuses("experiments_metrics")[-1] == AirbyteStreamStatus.INCOMPLETE
