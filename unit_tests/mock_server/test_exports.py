"""Export streams (one per dataTypeName) and users, through the connector's `read`/`discover` on a fake export API.

Manifest summary (definitions.export_stream): GET export/data.json?dataTypeName=<data_type>&startDateTime&endDateTime
per window of window_days (endDateTime exclusive), paced by one throttle, strict JSONL, RFC 3339 timestamps,
transactionalData decoded, primary key _iterable_event_id; a 5xx asks the same window again, a cut body splits it
(without duplicates);
the state is the end of the contiguous windows fully emitted.
"""

import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import pytest
import requests
import requests_mock
from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read
from airbyte_cdk.test.models.outcome import ExpectedOutcome
from airbyte_cdk.test.state_builder import StateBuilder
from freezegun import freeze_time

from source_iterable.source import SourceIterable, load_manifest
from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.export_api import (
    CHANNELS_URL,
    EXPORT_URL,
    GET_FIELDS_URL,
    ExportApi,
    Fault,
    a_user,
    an_event,
    any_window,
    for_window,
)
from unit_tests.mock_server.helpers import warnings_of

START = "2025-01-01T00:00:00Z"


def export_config(window_days: int = 30, end_date: str | None = "2025-03-01T00:00:00Z", **extra: Any) -> dict[str, Any]:
    """A config for export tests: no throttle wait (1000/min), no lookback unless asked."""
    builder = a_config().with_start_date(START).with_lookback_window(extra.pop("lookback_window", 0))
    if end_date:
        builder = builder.with_end_date(end_date)
    return {
        **builder.build(),
        "window_days": window_days,
        "export_requests_per_minute": 1000,
        **extra,
    }


@pytest.fixture
def api() -> Iterator[ExportApi]:
    with requests_mock.Mocker() as mocker:
        yield ExportApi().install(mocker)


def sync(
    streams: list[str],
    config: Mapping[str, Any],
    state: list[AirbyteStateMessage] | None = None,
    mode: SyncMode = SyncMode.incremental,
    fails: bool = False,
) -> EntrypointOutput:
    builder = CatalogBuilder()
    for name in streams:
        builder = builder.with_stream(name, mode)
    catalog = builder.build()
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if fails else ExpectedOutcome.EXPECT_SUCCESS
    return read(
        SourceIterable(catalog=catalog, config=config, state=state),
        config,
        catalog,
        state,
        expected_outcome=outcome,
    )


def message_ids(output: EntrypointOutput) -> list[str]:
    return sorted(str(message.record.data["messageId"]) for message in output.records)


def states(output: EntrypointOutput, stream: str) -> list[dict[str, Any]]:
    return [
        dict(message.state.stream.stream_state.__dict__)
        for message in output.state_messages
        if message.state.stream.stream_descriptor.name == stream
    ]


def first_error(output: EntrypointOutput) -> Any:
    """The stream's own error (the CDK then adds a summary "During the sync, the following streams did not sync")."""
    return output.errors[0].trace.error


def sends(*created: str) -> list[dict[str, Any]]:
    return [an_event(moment, number) for number, moment in enumerate(created, start=1)]


class TestWindows:
    """startDateTime inclusive, endDateTime exclusive, from start_date (or state − lookback) to end_date (or now).

    A range of at most window_days is one request; a longer one is first probed (onlyFields=createdAt, one request
    for the whole range), then read in windows planned from the records' times: none for an empty stretch, each
    at most window_days after its first record."""

    @freeze_time("2025-03-10T12:34:56Z")
    def test_given_no_end_date_and_no_data_when_first_sync_then_one_request_covers_start_date_to_now(
        self, api: ExportApi
    ) -> None:
        output = sync(["email_send"], export_config(end_date=None))
        assert api.requests == [("emailSend", "2025-01-01 00:00:00", "2025-03-10 12:34:56", "onlyFields=createdAt")]
        assert states(output, "email_send")[-1] == {"createdAt": "2025-03-10T12:34:56Z"}

    @freeze_time("2025-03-10T12:34:56Z")
    def test_given_a_state_and_lookback_when_incremental_then_reading_starts_lookback_before_the_state(
        self, api: ExportApi
    ) -> None:
        state = StateBuilder().with_stream_state("email_send", {"createdAt": "2025-03-09T00:00:00Z"}).build()
        output = sync(["email_send"], export_config(end_date=None, lookback_window=90), state)
        assert api.requests == [("emailSend", "2025-03-08 22:30:00", "2025-03-10 12:34:56")]
        assert states(output, "email_send")[-1] == {"createdAt": "2025-03-10T12:34:56Z"}

    def test_given_a_state_of_the_previous_connector_version_then_it_is_read_with_its_offset(
        self, api: ExportApi
    ) -> None:
        state = StateBuilder().with_stream_state("email_send", {"createdAt": "2025-02-20T10:00:00+00:00"}).build()
        sync(["email_send"], export_config(), state)
        assert api.requests == [("emailSend", "2025-02-20 10:00:00", "2025-03-01 00:00:00")]

    def test_given_an_empty_year_then_one_request_reads_it_and_the_state_reaches_its_end(self, api: ExportApi) -> None:
        output = sync(["email_send"], export_config(end_date="2026-01-01T00:00:00Z"))
        assert api.requests == [("emailSend", "2025-01-01 00:00:00", "2026-01-01 00:00:00", "onlyFields=createdAt")]
        assert states(output, "email_send")[-1] == {"createdAt": "2026-01-01T00:00:00Z"}

    def test_given_a_sparse_year_then_the_probe_and_one_request_read_it(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-03-03T10:00:00Z", "2025-03-20T00:00:00Z", "2025-09-09T09:09:09Z"))
        output = sync(["email_send"], export_config(end_date="2026-01-01T00:00:00Z"))
        assert api.requests == [
            ("emailSend", "2025-01-01 00:00:00", "2026-01-01 00:00:00", "onlyFields=createdAt"),
            ("emailSend", "2025-01-01 00:00:00", "2026-01-01 00:00:00"),
        ]
        assert message_ids(output) == ["m-1", "m-2", "m-3"]
        assert states(output, "email_send")[-1] == {"createdAt": "2026-01-01T00:00:00Z"}

    def test_given_a_range_read_then_one_summary_line_gives_its_path_requests_and_records(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-03-03T10:00:00Z", "2025-03-20T00:00:00Z", "2025-09-09T09:09:09Z"))
        output = sync(["email_send"], export_config(end_date="2026-01-01T00:00:00Z"))
        summaries = [
            re.sub(r"in [0-9.]+ s\.$", "in <s> s.", log.log.message)
            for log in output.logs
            if "with export/data.json:" in log.log.message
        ]
        assert summaries == [
            "email_send: read [2025-01-01 00:00:00, 2026-01-01 00:00:00) with export/data.json: 2 requests, "
            "3 records in <s> s."
        ]

    def test_given_full_refresh_then_the_range_from_start_date_is_read_the_same_way(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-01-10T00:00:00Z", "2025-02-20T00:00:00Z"))
        output = sync(["email_send"], export_config(window_days=45), mode=SyncMode.full_refresh)
        assert api.requests == [
            ("emailSend", "2025-01-01 00:00:00", "2025-03-01 00:00:00", "onlyFields=createdAt"),
            ("emailSend", "2025-01-01 00:00:00", "2025-03-01 00:00:00"),
        ]
        assert message_ids(output) == ["m-1", "m-2"]

    def test_given_an_event_on_a_window_boundary_then_it_is_read_once_by_the_later_window(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-01-30T23:59:59Z", "2025-01-31T00:00:00Z"))
        output = sync(["email_send"], export_config())
        assert message_ids(output) == ["m-1", "m-2"]


class TestRecords:
    def test_given_an_iterable_record_then_timestamps_transactional_data_and_event_id_are_normalised(
        self, api: ExportApi
    ) -> None:
        api.add(
            "emailSend",
            an_event(
                "2025-01-05T06:07:08Z",
                1,
                transactionalData='{"orderId": "o-1"}',
                itblInternal={"documentCreatedAt": "2025-01-05 06:07:09 +00:00"},
            ),
        )
        output = sync(["email_send"], export_config())
        assert [message.record.data for message in output.records] == [
            {
                "createdAt": "2025-01-05T06:07:08Z",
                "email": "user1@example.com",
                "messageId": "m-1",
                "campaignId": 101,
                "templateId": 200,
                "transactionalData": {"orderId": "o-1"},
                "itblInternal": {"documentCreatedAt": "2025-01-05T06:07:09Z"},
                # blake2b(digest_size=16) of "emailSend␟2025-01-05T06:07:08Z␟user1@example.com␟␟␟m-1␟101␟200␟␟␟␟"
                # (␟ = U+001F): the id is computed from the normalised createdAt, not from Iterable's raw form.
                "_iterable_event_id": "e42916a2cc7e52efddea6f5967c4610b",
            }
        ]

    def test_given_the_malformed_fractional_timestamp_then_it_is_rfc3339(self, api: ExportApi) -> None:
        record = an_event("2025-01-05T06:07:08Z", 1)
        record["createdAt"] = "2025-01-05 06:07:08.134105.000Z"
        api.add("emailSend", record)
        output = sync(["email_send"], export_config())
        assert output.records[0].record.data["createdAt"] == "2025-01-05T06:07:08.134105Z"


# Every export stream and the dataTypeName it must request, written out (not derived from the manifest).
STREAM_DATA_TYPES = [
    ("email_send", "emailSend"),
    ("email_open", "emailOpen"),
    ("email_click", "emailClick"),
    ("email_bounce", "emailBounce"),
    ("email_complaint", "emailComplaint"),
    ("email_send_skip", "emailSendSkip"),
    ("email_subscribe", "emailSubscribe"),
    ("email_unsubscribe", "emailUnSubscribe"),
    ("hosted_unsubscribe_click", "hostedUnsubscribeClick"),
    ("push_send", "pushSend"),
    ("push_open", "pushOpen"),
    ("push_uninstall", "pushUninstall"),
    ("push_bounce", "pushBounce"),
    ("push_send_skip", "pushSendSkip"),
    ("in_app_send", "inAppSend"),
    ("in_app_open", "inAppOpen"),
    ("in_app_click", "inAppClick"),
    ("in_app_close", "inAppClose"),
    ("in_app_delete", "inAppDelete"),
    ("in_app_delivery", "inAppDelivery"),
    ("in_app_send_skip", "inAppSendSkip"),
    ("in_app_recall", "inAppRecall"),
    ("inbox_session", "inboxSession"),
    ("inbox_message_impression", "inboxMessageImpression"),
    ("sms_send", "smsSend"),
    ("sms_bounce", "smsBounce"),
    ("sms_click", "smsClick"),
    ("sms_received", "smsReceived"),
    ("sms_send_skip", "smsSendSkip"),
    ("sms_usage_info", "smsUsageInfo"),
    ("web_push_send", "webPushSend"),
    ("web_push_click", "webPushClick"),
    ("web_push_send_skip", "webPushSendSkip"),
    ("rcs_send", "rcsSend"),
    ("rcs_send_skip", "rcsSendSkip"),
    ("embedded_send", "embeddedSend"),
    ("embedded_send_skip", "embeddedSendSkip"),
    ("embedded_click", "embeddedClick"),
    ("embedded_received", "embeddedReceived"),
    ("embedded_impression", "embeddedImpression"),
    ("embedded_session", "embeddedSession"),
    ("whatsapp_send", "whatsAppSend"),
    ("whatsapp_send_skip", "whatsAppSendSkip"),
    ("whatsapp_bounce", "whatsAppBounce"),
    ("whatsapp_click", "whatsAppClick"),
    ("whatsapp_received", "whatsAppReceived"),
    ("whatsapp_seen", "whatsAppSeen"),
    ("whatsapp_usage_info", "whatsAppUsageInfo"),
    ("journey_exit", "journeyExit"),
    ("purchase", "purchase"),
    ("custom_event", "customEvent"),
    ("unknown_session", "unknownSession"),
]


def test_given_every_export_stream_then_each_requests_its_own_data_type_and_gets_its_records(
    api: ExportApi,
) -> None:
    for number, (_, data_type) in enumerate(STREAM_DATA_TYPES):
        api.add(data_type, an_event("2025-01-05T06:07:08Z", number, marker=data_type))
    output = sync([name for name, _ in STREAM_DATA_TYPES], export_config(window_days=90))
    received = {(message.record.stream, message.record.data["marker"]) for message in output.records}
    assert received == set(STREAM_DATA_TYPES)
    assert sorted(window[0] for window in api.requests) == sorted(data_type for _, data_type in STREAM_DATA_TYPES)


class TestSplitAndRetry:
    """A body cut mid-stream (or a 5xx) splits the window in halves; records already emitted are not emitted again."""

    def test_given_a_body_cut_after_two_lines_then_the_halves_are_read_and_every_record_is_emitted_once(
        self, api: ExportApi
    ) -> None:
        api.add(
            "emailSend",
            *sends(
                "2025-01-02T00:00:00Z",
                "2025-01-10T00:00:00Z",
                "2025-01-20T00:00:00Z",
                "2025-01-25T00:00:00Z",
            ),
        )
        api.fail(
            Fault(
                for_window("2025-01-01 00:00:00", "2025-01-31 00:00:00"),
                times=1,
                cut_after_lines=2,
            )
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"))
        assert api.requests == [
            ("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00"),
            ("emailSend", "2025-01-01 00:00:00", "2025-01-16 00:00:00"),
            ("emailSend", "2025-01-16 00:00:00", "2025-01-31 00:00:00"),
        ]
        assert message_ids(output) == ["m-1", "m-2", "m-3", "m-4"]
        assert states(output, "email_send")[-1] == {"createdAt": "2025-01-31T00:00:00Z"}

    def test_given_the_first_half_is_cut_too_then_it_is_split_again_without_duplicates(self, api: ExportApi) -> None:
        api.add(
            "emailSend",
            *sends(
                "2025-01-02T00:00:00Z",
                "2025-01-05T00:00:00Z",
                "2025-01-10T00:00:00Z",
                "2025-01-25T00:00:00Z",
            ),
        )
        api.fail(
            Fault(
                for_window("2025-01-01 00:00:00", "2025-01-31 00:00:00"),
                times=1,
                cut_after_lines=1,
            )
        )
        api.fail(
            Fault(
                for_window("2025-01-01 00:00:00", "2025-01-16 00:00:00"),
                times=1,
                cut_after_lines=2,
            )
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"))
        assert api.requests[2:] == [
            ("emailSend", "2025-01-01 00:00:00", "2025-01-08 12:00:00"),
            ("emailSend", "2025-01-08 12:00:00", "2025-01-16 00:00:00"),
            ("emailSend", "2025-01-16 00:00:00", "2025-01-31 00:00:00"),
        ]
        assert message_ids(output) == ["m-1", "m-2", "m-3", "m-4"]

    def test_given_a_500_then_the_same_window_is_asked_again_not_split(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-01-02T00:00:00Z", "2025-01-20T00:00:00Z"))
        api.fail(
            Fault(
                for_window("2025-01-01 00:00:00", "2025-01-31 00:00:00"),
                times=1,
                status=500,
                body='{"msg":"An error occurred.","code":"GenericError","params":null}',
            )
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"))
        assert api.requests == [("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00")] * 2
        assert message_ids(output) == ["m-1", "m-2"]

    def test_given_a_window_answers_500_three_times_then_it_is_split(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-01-02T00:00:00Z", "2025-01-20T00:00:00Z"))
        api.fail(
            Fault(
                for_window("2025-01-01 00:00:00", "2025-01-31 00:00:00"),
                times=3,
                status=503,
                body='{"msg":"An error occurred.","code":"GenericError","params":null}',
            )
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"))
        assert api.requests == [
            ("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00"),
            ("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00"),
            ("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00"),
            ("emailSend", "2025-01-01 00:00:00", "2025-01-16 00:00:00"),
            ("emailSend", "2025-01-16 00:00:00", "2025-01-31 00:00:00"),
        ]
        assert message_ids(output) == ["m-1", "m-2"]

    def test_given_a_body_cut_before_its_first_record_then_the_same_window_is_asked_again(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-01-02T00:00:00Z", "2025-01-20T00:00:00Z"))
        api.fail(Fault(for_window("2025-01-01 00:00:00", "2025-01-31 00:00:00"), times=1, cut_after_lines=0))
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"))
        assert api.requests == [("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00")] * 2
        assert message_ids(output) == ["m-1", "m-2"]

    def test_given_a_one_hour_window_keeps_failing_then_it_is_tried_three_times_and_the_sync_fails(
        self, api: ExportApi
    ) -> None:
        api.fail(Fault(any_window, times=100, cut_after_lines=0))
        output = sync(
            ["email_send"],
            export_config(start_date="2025-01-01T00:00:00Z", end_date="2025-01-01T01:00:00Z"),
            fails=True,
        )
        assert api.requests == [("emailSend", "2025-01-01 00:00:00", "2025-01-01 01:00:00")] * 3
        assert first_error(output).message == (
            "Iterable's export of email_send (dataTypeName=emailSend) failed 3 times for the window "
            "[2025-01-01 00:00:00, 2025-01-01 01:00:00) UTC, already the smallest window (PT1H): before the body "
            "started: body cut after 0 records (ChunkedEncodingError). No state was saved past this window; the next "
            "sync resumes here."
        )

    def test_given_the_connection_fails_before_any_answer_then_the_same_window_is_tried_three_times(
        self, api: ExportApi
    ) -> None:
        with requests_mock.Mocker() as mocker:
            mocker.get(EXPORT_URL, exc=requests.exceptions.ConnectionError("Connection refused"))
            output = sync(
                ["email_send"],
                export_config(start_date="2025-01-01T00:00:00Z", end_date="2025-01-01T01:00:00Z"),
                fails=True,
            )
            assert mocker.call_count == 3
        assert first_error(output).message == (
            "Iterable's export of email_send (dataTypeName=emailSend) failed 3 times for the window "
            "[2025-01-01 00:00:00, 2025-01-01 01:00:00) UTC, already the smallest window (PT1H): before the body "
            "started: request failed: ConnectionError: Connection refused. No state was saved past this window; the "
            "next sync resumes here."
        )


class TestErrors:
    def test_given_a_line_that_is_not_json_then_the_sync_fails_naming_stream_window_and_line(
        self, api: ExportApi
    ) -> None:
        api.add("emailSend", *sends("2025-01-02T00:00:00Z", "2025-01-03T00:00:00Z"))
        api.fail(Fault(any_window, times=1, extra_line="<html>oops</html>"))
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"), fails=True)
        assert first_error(output).message == (
            "Iterable's export of email_send (dataTypeName=emailSend) for the window [2025-01-01 00:00:00, "
            "2025-01-31 00:00:00) UTC returned line 2 that is not a JSON object: '<html>oops</html>'. The sync stops "
            "rather than skip data; if this repeats, report it to Iterable."
        )
        assert states(output, "email_send") == [{"createdAt": "2025-01-01T00:00:00Z"}]

    def test_given_a_200_html_page_then_the_sync_fails_saying_not_jsonl_and_the_state_stays(
        self, api: ExportApi
    ) -> None:
        api.add("emailSend", *sends("2025-01-02T00:00:00Z"))
        api.fail(
            Fault(
                any_window,
                times=1,
                headers={"Content-Type": "text/html; charset=utf-8"},
                body="<!DOCTYPE html>\n<html><head><title>Iterable - Maintenance</title></head></html>",
            )
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"), fails=True)
        assert first_error(output).message == (
            "Iterable's export/data.json answered the export of email_send (dataTypeName=emailSend, window "
            "[2025-01-01 00:00:00, 2025-01-31 00:00:00) UTC) with a body that is not JSONL (Content-Type: text/html; "
            "charset=utf-8), starting '<!DOCTYPE html> <html><head><title>Iterable - Maintenance</title></head></html>'. "
            "A proxy or an outage page may stand between the connector and Iterable; no state was saved past this "
            "window."
        )
        assert api.requests == [("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00")]
        assert states(output, "email_send") == [{"createdAt": "2025-01-01T00:00:00Z"}]
        assert output.records == []

    def test_given_a_429_with_retry_after_then_the_same_window_is_asked_again(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-01-02T00:00:00Z"))
        api.fail(
            Fault(
                any_window,
                times=1,
                status=429,
                headers={"Retry-After": "0"},
                body='{"msg":"Exceeded rate limit for endpoint: /api/export/data.json","code":"RateLimitExceeded","params":{}}',
            )
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"))
        assert api.requests == [("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00")] * 2
        assert message_ids(output) == ["m-1"]

    def test_given_429_keeps_coming_then_the_sync_fails_after_five_retries(self, api: ExportApi) -> None:
        api.fail(
            Fault(
                any_window,
                times=100,
                status=429,
                headers={"Retry-After": "0"},
                body='{"msg":"Exceeded rate limit","code":"RateLimitExceeded","params":{}}',
            )
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"), fails=True)
        assert len(api.requests) == 6
        assert first_error(output).message == (
            "Iterable kept answering 429 (rate limit) to the export of email_send 6 times in a row: "
            "RateLimitExceeded: Exceeded rate limit. Another client may be using the same project's export API; "
            "lower export_requests_per_minute or retry later."
        )

    def test_given_the_unsubscribe_spelling_is_rejected_then_the_other_spelling_is_asked(self, api: ExportApi) -> None:
        api.rejected_data_types = ("emailUnSubscribe",)
        api.add("emailUnsubscribe", *sends("2025-01-02T00:00:00Z", "2025-02-02T00:00:00Z"))
        output = sync(["email_unsubscribe"], export_config(window_days=90))
        assert api.requests == [
            ("emailUnSubscribe", "2025-01-01 00:00:00", "2025-03-01 00:00:00"),
            ("emailUnsubscribe", "2025-01-01 00:00:00", "2025-03-01 00:00:00"),
        ]
        assert message_ids(output) == ["m-1", "m-2"]

    def test_given_iterable_accepts_the_documented_unsubscribe_spelling_then_it_is_the_one_asked(
        self, api: ExportApi
    ) -> None:
        api.add("emailUnSubscribe", *sends("2025-01-02T00:00:00Z"))
        output = sync(["email_unsubscribe"], export_config(window_days=90))
        assert api.requests == [("emailUnSubscribe", "2025-01-01 00:00:00", "2025-03-01 00:00:00")]
        assert message_ids(output) == ["m-1"]

    def test_given_both_unsubscribe_spellings_are_rejected_then_the_sync_fails_with_iterables_message(
        self, api: ExportApi
    ) -> None:
        api.rejected_data_types = ("emailUnSubscribe", "emailUnsubscribe")
        output = sync(["email_unsubscribe"], export_config(window_days=90), fails=True)
        assert len(api.requests) == 2
        assert first_error(output).message == (
            "Iterable refused the export of email_unsubscribe (dataTypeName=emailUnsubscribe, window "
            "[2025-01-01 00:00:00, 2025-03-01 00:00:00) UTC) with HTTP 400: BadParams: Invalid dataTypeName emailUnsubscribe."
        )

    def test_given_a_key_that_cannot_export_then_the_sync_fails_with_a_config_error(self, api: ExportApi) -> None:
        api.fail(
            Fault(
                any_window,
                times=1,
                status=401,
                body='{"msg":"Invalid API key","code":"BadApiKey","params":null}',
            )
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"), fails=True)
        error = first_error(output)
        assert error.failure_type.value == "config_error"
        assert error.message == (
            "Iterable refused the export of email_send (BadApiKey: Invalid API key). Only a Server-side API key can "
            "use the export API; read-only and client-side (Mobile, JavaScript) keys cannot. Create a Server-side "
            "key under Integrations → API Keys."
        )

    def test_given_a_revoked_key_then_the_export_stream_says_the_key_is_refused_everywhere(
        self, api: ExportApi
    ) -> None:
        api.fail(
            Fault(any_window, times=1, status=401, body='{"msg":"Invalid API key","code":"BadApiKey","params":null}')
        )
        assert api.mocker is not None
        api.mocker.get(
            CHANNELS_URL, status_code=401, json={"msg": "Invalid API key", "code": "BadApiKey", "params": None}
        )
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"), fails=True)
        error = first_error(output)
        assert error.failure_type.value == "config_error"
        assert error.message == (
            "Iterable rejects the API key (config field api_key) on every endpoint, even "
            "https://api.iterable.com/api/channels, which any key of the project can read (BadApiKey: Invalid API "
            "key). The key is wrong, was revoked or rotated, or belongs to a project in the other data center: this "
            "connection uses the US data center."
        )


class TestCustomEventNames:
    def given_custom_events(self, api: ExportApi) -> None:
        api.add(
            "customEvent",
            an_event("2025-01-02T00:00:00Z", 1, eventName="app_opened"),
            an_event("2025-01-03T00:00:00Z", 2, eventName="cart_viewed"),
            an_event("2025-01-04T00:00:00Z", 3, eventName="purchase_started"),
        )

    def test_given_custom_event_names_then_only_those_events_are_emitted_from_the_same_request(
        self, api: ExportApi
    ) -> None:
        self.given_custom_events(api)
        config = export_config(window_days=90, custom_event_names=["purchase_started", "app_opened"])
        output = sync(["custom_event"], config)
        assert [record.record.data["eventName"] for record in output.records] == ["purchase_started", "app_opened"]
        assert api.requests == [("customEvent", "2025-01-01 00:00:00", "2025-03-01 00:00:00")]
        assert states(output, "custom_event")[-1] == {"createdAt": "2025-03-01T00:00:00Z"}

    @pytest.mark.parametrize("names", [None, []], ids=["unset", "empty"])
    def test_given_no_custom_event_names_then_every_custom_event_is_emitted(
        self, api: ExportApi, names: list[str] | None
    ) -> None:
        self.given_custom_events(api)
        config = export_config() if names is None else export_config(custom_event_names=names)
        output = sync(["custom_event"], config)
        assert sorted(record.record.data["eventName"] for record in output.records) == [
            "app_opened",
            "cart_viewed",
            "purchase_started",
        ]


def export_stream(name: str, config: Mapping[str, Any], state: list[AirbyteStateMessage] | None = None) -> Any:
    return next(stream for stream in SourceIterable(config=config, state=state).streams(config) if stream.name == name)


def read_window(stream: Any, partition: Any) -> dict[str, Any]:
    """What the CDK's PartitionReader does with one partition; returns the stream state after it."""
    for record in partition.read():
        stream.cursor.observe(record)
    stream.cursor.close_partition(partition)
    return dict(stream.cursor.state)


# The probe of every long range answers a broken line: the range is read in windows of window_days, several
# windows per range, as a dense stream's would be (the plan's own windows are tested in test_export_window.py).
UNCOUNTABLE = Fault(any_window, times=1000, extra_line="{broken", probe=True)


class TestState:
    """The state is the exclusive end of the contiguous windows fully emitted (empty stretches included), moved
    after each window of a range, so a killed sync resumes at the last completed window."""

    def test_given_a_range_read_in_windows_then_the_state_moves_after_each(self, api: ExportApi) -> None:
        api.add("emailSend", *sends("2025-01-02T00:00:00Z", "2025-01-20T00:00:00Z", "2025-02-15T00:00:00Z"))
        api.fail(UNCOUNTABLE)
        output = sync(["email_send"], export_config(end_date="2025-04-01T00:00:00Z"))
        assert api.requests[1:] == [
            ("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00"),
            ("emailSend", "2025-01-31 00:00:00", "2025-03-02 00:00:00"),
            ("emailSend", "2025-03-02 00:00:00", "2025-04-01 00:00:00"),
        ]
        assert [state["createdAt"] for state in states(output, "email_send")] == [
            "2025-01-31T00:00:00Z",
            "2025-03-02T00:00:00Z",
            "2025-04-01T00:00:00Z",
            "2025-04-01T00:00:00Z",
        ]

    def test_given_a_record_dated_beyond_its_window_then_the_state_still_stops_at_the_window_end(
        self, api: ExportApi
    ) -> None:
        api.window_records = lambda *window: [{**an_event("2025-02-25T00:00:00Z", 1)}]  # type: ignore[method-assign]
        output = sync(["email_send"], export_config(end_date="2025-01-31T00:00:00Z"))
        assert message_ids(output) == ["m-1"]
        assert states(output, "email_send")[-1] == {"createdAt": "2025-01-31T00:00:00Z"}

    def test_given_empty_windows_then_the_state_still_reaches_the_end(self, api: ExportApi) -> None:
        output = sync(["email_send"], export_config())
        assert states(output, "email_send")[-1] == {"createdAt": "2025-03-01T00:00:00Z"}

    def test_given_a_window_fails_then_the_state_stops_at_the_end_of_the_last_completed_window(
        self, api: ExportApi
    ) -> None:
        api.add("emailSend", *sends("2025-01-02T00:00:00Z", "2025-01-16T00:00:00Z", "2025-02-05T00:00:00Z"))
        api.fail(UNCOUNTABLE)
        api.fail(Fault(for_window("2025-01-31 00:00:00", "2025-03-02 00:00:00"), times=1, extra_line="{broken"))
        output = sync(["email_send"], export_config(end_date="2025-04-01T00:00:00Z"), fails=True)
        assert api.requests[1:] == [
            ("emailSend", "2025-01-01 00:00:00", "2025-01-31 00:00:00"),
            ("emailSend", "2025-01-31 00:00:00", "2025-03-02 00:00:00"),
        ]
        assert states(output, "email_send")[-1] == {"createdAt": "2025-01-31T00:00:00Z"}

    def test_given_an_interrupted_sync_when_resumed_from_its_state_then_records_equal_a_clean_sync(
        self, api: ExportApi
    ) -> None:
        created = [
            f"2025-{month:02d}-{day:02d}T{hour:02d}:00:00Z"
            for month in (1, 2, 3)
            for day in (1, 9, 17, 25)
            for hour in (0, 13)
        ]
        api.add("emailSend", *sends(*created))
        config = export_config(window_days=20, end_date="2025-04-01T00:00:00Z")
        api.fail(UNCOUNTABLE)
        clean = sync(["email_send"], config)
        windows = [request for request in api.requests if len(request) == 3]
        assert len(windows) == 5
        api.requests.clear()
        api.fail(Fault(for_window(*windows[2][1:]), times=1, extra_line="{broken"))
        interrupted = sync(["email_send"], config, fails=True)
        state = states(interrupted, "email_send")[-1]
        assert state == {"createdAt": windows[1][2].replace(" ", "T") + "Z"}
        api.requests.clear()
        resumed = sync(["email_send"], config, StateBuilder().with_stream_state("email_send", state).build())
        assert api.requests[0][1] == windows[1][2]
        every_id = sorted(f"m-{number}" for number in range(1, len(created) + 1))
        assert message_ids(clean) == every_id
        assert sorted(set(message_ids(interrupted)) | set(message_ids(resumed))) == every_id
        after_state = [f"m-{number}" for number, moment in enumerate(created, start=1) if moment >= state["createdAt"]]
        assert message_ids(resumed) == sorted(after_state)  # the re-read starts at the last completed window


class TestUsers:
    FIELDS: ClassVar[dict[str, str]] = {
        "email": "string",
        "profileUpdatedAt": "date",
        "Industry": "string",
        "industry": "string",
        "offers": "object",
        "offers.Intro APR": "double",
        "offers.intro APR": "string",
        "loyalty": "long",
    }

    @pytest.mark.parametrize(
        "project_type, key",
        [
            pytest.param(None, "email", id="default"),
            pytest.param("email", "email", id="email"),
            pytest.param("userId", "userId", id="userId"),
            pytest.param("hybrid", "itblUserId", id="hybrid"),
        ],
    )
    def test_given_a_project_type_when_discover_then_users_is_keyed_accordingly(
        self, api: ExportApi, project_type: str | None, key: str
    ) -> None:
        api.user_fields = self.FIELDS
        config = export_config(**({"project_type": project_type} if project_type else {}))
        stream = next(
            s for s in discover(SourceIterable(config=config), config).catalog.catalog.streams if s.name == "users"
        )
        assert stream.source_defined_primary_key == [[key]]
        assert stream.default_cursor_field == ["profileUpdatedAt"]

    def test_given_getfields_when_discover_then_the_schema_declares_the_project_fields_renamed(
        self, api: ExportApi
    ) -> None:
        api.user_fields = self.FIELDS
        config = export_config()
        stream = next(
            s for s in discover(SourceIterable(config=config), config).catalog.catalog.streams if s.name == "users"
        )
        properties = stream.json_schema["properties"]
        assert {"_industry", "industry", "_offers", "offers", "loyalty"} <= set(properties)
        assert "Industry" not in properties
        assert properties["_offers"]["properties"] == {"intro APR": {"type": ["null", "number"]}}
        assert properties["loyalty"] == {"type": ["null", "integer"]}

    def test_given_user_records_then_they_are_renamed_like_the_schema_and_windowed_on_profile_updates(
        self, api: ExportApi
    ) -> None:
        api.user_fields = self.FIELDS
        api.add(
            "user",
            a_user(
                "2025-01-05T00:00:00Z",
                "a@x.com",
                Industry="Media",
                offers={"Intro APR": 1.5},
            ),
            a_user(
                "2025-02-05T00:00:00Z",
                "b@x.com",
                industry="retail",
                offers={"intro APR": "low"},
            ),
        )
        output = sync(["users"], export_config())
        assert sorted(
            (message.record.data for message in output.records),
            key=lambda data: data["email"],
        ) == [
            {
                "email": "a@x.com",
                "profileUpdatedAt": "2025-01-05T00:00:00Z",
                "_industry": "Media",
                "offers": {},
                "_offers": {"intro APR": 1.5},
            },
            {
                "email": "b@x.com",
                "profileUpdatedAt": "2025-02-05T00:00:00Z",
                "industry": "retail",
                "offers": {"intro APR": "low"},
            },
        ]
        assert api.requests == [
            ("user", "2025-01-01 00:00:00", "2025-03-01 00:00:00", "onlyFields=profileUpdatedAt"),
            ("user", "2025-01-01 00:00:00", "2025-03-01 00:00:00"),
        ]
        assert states(output, "users")[-1] == {"profileUpdatedAt": "2025-03-01T00:00:00Z"}


class TestUsersWhenGetFieldsFails:
    """users/getFields answering without a field list costs the users schema its dynamic fields, nothing more."""

    WARNING = (
        "Iterable's users/getFields failed ({cause}): the users stream is declared with its fixed fields only; the "
        "project's own user fields are still read, as fields the schema does not declare."
    )

    @pytest.mark.parametrize(
        "answer, cause",
        [
            pytest.param(
                {"status_code": 200, "json": {"msg": "", "code": "Success"}},
                "HTTP 200 without a `fields` object",
                id="200-without-fields",
            ),
            pytest.param(
                {"status_code": 200, "text": "<html><body>Maintenance</body></html>"},
                "HTTP 200 with a body that is not JSON",
                id="200-html",
            ),
            pytest.param(
                {"status_code": 403, "json": {"msg": "Key cannot read user fields", "code": "Forbidden"}},
                "HTTP 403 (Forbidden: Key cannot read user fields)",
                id="403-only-this-warning",
            ),
            pytest.param(
                {"status_code": 400, "json": {"msg": "Bad params", "code": "BadParams"}},
                f"Iterable rejected {GET_FIELDS_URL} (BadParams): Bad params",
                id="400",
            ),
            pytest.param(
                {"status_code": 500, "json": {"msg": "Internal error", "code": "GenericError"}},
                f"Iterable failed on {GET_FIELDS_URL} (GenericError): Internal error. HTTP 500 on all 6 attempts; "
                "Iterable may be having an outage. Retry the sync later.",
                id="500-after-retries",
            ),
        ],
    )
    def test_given_getfields_fails_when_discover_then_every_stream_is_listed_and_users_has_its_fixed_schema(
        self, api: ExportApi, retry_waits: list[float], answer: dict[str, Any], cause: str
    ) -> None:
        config = export_config()
        healthy = discover(SourceIterable(config=config), config).catalog.catalog.streams
        api.mocker.get(GET_FIELDS_URL, **answer)
        output = discover(SourceIterable(config=config), config)
        streams = {stream.name: stream for stream in output.catalog.catalog.streams}
        assert sorted(streams) == sorted(stream.name for stream in healthy)
        users = streams["users"].json_schema
        assert users["additionalProperties"] is True
        assert users["properties"] == load_manifest()["schemas"]["users"]["properties"]
        assert [m.log.message for m in output.logs if m.log.level.name == "WARN"] == [self.WARNING.format(cause=cause)]

    def test_given_getfields_fails_when_read_users_then_profiles_keep_their_own_fields_unrenamed(
        self, api: ExportApi
    ) -> None:
        api.add("user", a_user("2025-01-05T00:00:00Z", "a@x.com", Industry="Media", loyalty=7))
        api.mocker.get(GET_FIELDS_URL, json={"msg": "", "code": "Success"})
        output = sync(["users"], export_config())
        assert [message.record.data for message in output.records] == [
            {"email": "a@x.com", "profileUpdatedAt": "2025-01-05T00:00:00Z", "Industry": "Media", "loyalty": 7}
        ]
        assert self.WARNING.format(cause="HTTP 200 without a `fields` object") in warnings_of(output)
