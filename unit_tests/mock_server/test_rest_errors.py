"""Error handling shared by every REST stream (manifest `definitions.error_handler`).

401/403 on a stream's endpoint: the stream is skipped with a WARNING naming it and Iterable's `msg`, and the
sync goes on. 429 and 5xx: retried (Retry-After honoured, else 2, 4, 8, 16, 32 s; the CDK adds 1 s to each),
at most 5 retries, then the stream fails with a message naming the endpoint and Iterable's `msg`.
Retries do not sleep here: `retry_waits` records the waits. The api_budget is left out (`with_rate_budget=False`)
so a 429 on a budgeted endpoint does not wait for its real per-minute window.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import requests_mock
from airbyte_cdk.models import AirbyteStreamStatus
from airbyte_cdk.test.mock_http import HttpMocker, HttpRequest, HttpResponse
from freezegun import freeze_time

from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import emitted, read_stream, records_of, warnings_of
from unit_tests.mock_server.request_builder import a_paged_request, a_request
from unit_tests.mock_server.response_builder import (
    a_campaign,
    a_catalog,
    a_catalog_item,
    a_channel,
    a_journey,
    a_list,
    a_message_type,
    a_metadata_key,
    a_snippet,
    a_template,
    a_webhook,
    bad_api_key,
    csv_response,
    error_response,
    forbidden,
    json_response,
    rate_limited,
    records_response,
    server_error,
    text_response,
)
from unit_tests.network_errors import (
    closed_without_answer,
    refused,
    stalled_body,
    unresolved,
    untrusted_certificate,
)

# The clock of the tests whose records carry campaigns_metrics' synced_at (the moment of the read).
NOW = "2024-06-02T00:00:00Z"


@dataclass
class Endpoint:
    """The request of a stream that the tests make fail, what it answers when it works, and the records then."""

    request: HttpRequest
    ok: HttpResponse
    records: list[dict[str, Any]]
    register_others: Callable[[HttpMocker], None] = lambda http_mocker: None


def _templates_others(http_mocker: HttpMocker) -> None:
    for template_type in ["Base", "Blast", "Triggered", "Workflow"]:
        for medium in ["Email", "Push", "InApp", "SMS"]:
            if (template_type, medium) != ("Base", "Email"):
                request = a_paged_request("templates").with_param("templateType", template_type)
                http_mocker.get(
                    request.with_param("messageMedium", medium).build(),
                    records_response("templates", []),
                )


def _other_request(request: HttpRequest, response: HttpResponse) -> Callable[[HttpMocker], None]:
    return lambda http_mocker: http_mocker.get(request, response)


def _metadata_parents(http_mocker: HttpMocker) -> None:
    http_mocker.get(a_request("metadata").build(), json_response({"results": [{"name": "stores"}]}))
    http_mocker.get(
        a_request("metadata/stores").build(),
        json_response({"results": [a_metadata_key("stores", "berlin")]}),
    )


ENDPOINTS = {
    "campaigns": Endpoint(
        a_paged_request("campaigns", sort="id").build(),
        records_response("campaigns", [a_campaign(1)]),
        [a_campaign(1)],
    ),
    "campaigns_metrics": Endpoint(
        a_request("campaigns/metrics").with_param("campaignId", [1]).with_param("startDateTime", "2024-01-01").build(),
        csv_response(["id", "Revenue"], [[1, 2]]),
        [{"id": 1, "revenue": 2, "synced_at": NOW}],
        _other_request(
            a_paged_request("campaigns", sort="id").build(),
            records_response("campaigns", [a_campaign(1)]),
        ),
    ),
    "channels": Endpoint(
        a_request("channels").build(),
        records_response("channels", [a_channel(1)]),
        [a_channel(1)],
    ),
    "lists": Endpoint(a_request("lists").build(), records_response("lists", [a_list(7)]), [a_list(7)]),
    "list_users": Endpoint(
        a_request("lists/getUsers").with_param("listId", 7).build(),
        text_response(["a@x.com"]),
        [{"listId": 7, "email": "a@x.com"}],
        _other_request(a_request("lists").build(), records_response("lists", [a_list(7)])),
    ),
    "message_types": Endpoint(
        a_request("messageTypes").build(),
        records_response("messageTypes", [a_message_type(1)]),
        [a_message_type(1)],
    ),
    "metadata": Endpoint(
        a_request("metadata/stores/berlin").build(),
        json_response({**a_metadata_key("stores", "berlin"), "value": {"a": 1}}),
        [{**a_metadata_key("stores", "berlin"), "value": {"a": 1}}],
        _metadata_parents,
    ),
    "templates": Endpoint(
        a_paged_request("templates").with_param("templateType", "Base").with_param("messageMedium", "Email").build(),
        records_response("templates", [a_template(1)]),
        [{**a_template(1), "templateType": "Base", "messageMedium": "Email"}],
        _templates_others,
    ),
    "catalogs": Endpoint(
        a_paged_request("catalogs").build(),
        records_response("catalogNames", [a_catalog("shoes")]),
        [a_catalog("shoes")],
    ),
    "catalog_items": Endpoint(
        a_paged_request("catalogs/shoes/items").build(),
        records_response("catalogItemsWithProperties", [a_catalog_item("shoes", "s1")]),
        [a_catalog_item("shoes", "s1")],
        _other_request(
            a_paged_request("catalogs").build(),
            records_response("catalogNames", [a_catalog("shoes")]),
        ),
    ),
    "journeys": Endpoint(
        a_paged_request("journeys", page_size=50, sort="id").build(),
        records_response("journeys", [a_journey(1)]),
        [a_journey(1)],
        _other_request(
            a_paged_request("journeys", page_size=50, sort="id").with_param("state", "Archived").build(),
            records_response("journeys", []),
        ),
    ),
    "snippets": Endpoint(
        a_request("snippets").build(),
        records_response("snippets", [a_snippet(1)]),
        [a_snippet(1)],
    ),
    "webhooks": Endpoint(
        a_request("webhooks").build(),
        records_response("webhooks", [a_webhook(1)]),
        [a_webhook(1)],
    ),
    "user_fields": Endpoint(
        a_request("users/getFields").build(),
        json_response({"fields": {"email": "string"}}),
        [{"name": "email", "type": "string"}],
    ),
    "forgotten_users": Endpoint(
        a_request("users/forgotten").build(),
        json_response({"hashedEmails": ["ab" * 32]}),
        [{"hash": "ab" * 32, "hashedField": "email"}],
    ),
    "catalog_field_mappings": Endpoint(
        a_request("catalogs/shoes/fieldMappings").build(),
        json_response({"definedMappings": {"size": "long"}, "undefinedFields": []}),
        [{"fieldName": "size", "fieldType": "long", "catalogName": "shoes", "defined": True}],
        _other_request(
            a_paged_request("catalogs").build(),
            records_response("catalogNames", [a_catalog("shoes")]),
        ),
    ),
}
STREAMS = [pytest.param(name, id=name) for name in ENDPOINTS]
# Every key of a project may list channels: a refusal there is a bad key, never a skipped stream.
SKIPPABLE_STREAMS = [pytest.param(name, id=name) for name in ENDPOINTS if name != "channels"]


def path_of(request: HttpRequest) -> str:
    return request._parsed_url.path


@pytest.mark.parametrize("stream", SKIPPABLE_STREAMS)
@pytest.mark.parametrize("refusal", [pytest.param(bad_api_key, id="401"), pytest.param(forbidden, id="403")])
def test_given_key_refused_on_endpoint_when_read_then_stream_is_skipped_with_a_warning_and_completes(
    http_mocker: HttpMocker,
    retry_waits: list[float],
    stream: str,
    refusal: Callable[[], HttpResponse],
) -> None:
    endpoint = ENDPOINTS[stream]
    endpoint.register_others(http_mocker)
    refused = refusal()
    http_mocker.get(endpoint.request, refused)
    if refused.status_code == 401:  # the key still reads channels: a missing permission, not a refused key
        http_mocker.get(a_request("channels").build(), records_response("channels", []))

    output = read_stream(stream, a_config().build(), with_rate_budget=False)

    error = json.loads(refused.body)
    assert records_of(output) == []
    assert output.errors == []
    assert output.get_stream_statuses(stream)[-1] == AirbyteStreamStatus.COMPLETE
    expected_warning = (
        f"Skipping stream {stream}: Iterable refused https://api.iterable.com{path_of(endpoint.request)} "
        f"({error['code']}: {error['msg']}). The API key may not read this endpoint; the sync goes on without this stream."
    )
    assert [w for w in warnings_of(output) if w.startswith(f"Skipping stream {stream}:")] == [expected_warning]
    assert retry_waits == []


def test_given_key_rejected_on_channels_when_read_then_sync_fails_with_the_key_message(
    http_mocker: HttpMocker, retry_waits: list[float]
) -> None:
    http_mocker.get(a_request("channels").build(), bad_api_key())

    output = read_stream("channels", a_config().build(), expect_failure=True, with_rate_budget=False)

    error = json.loads(bad_api_key().body)
    assert records_of(output) == []
    assert retry_waits == []
    assert output.errors[0].trace.error.failure_type.value == "config_error"
    assert output.errors[0].trace.error.message == (
        f"Iterable rejected the API key ({error['code']}: {error['msg']}) on https://api.iterable.com/api/channels. "
        "The key is wrong, was rotated, was copied with leading or trailing whitespace, or belongs to a project in "
        "the other data center: this connection uses the US data center."
    )


@freeze_time(NOW)
@pytest.mark.parametrize("stream", STREAMS)
def test_given_429_with_retry_after_then_success_when_read_then_waits_retry_after_and_emits_records(
    http_mocker: HttpMocker, retry_waits: list[float], stream: str
) -> None:
    endpoint = ENDPOINTS[stream]
    endpoint.register_others(http_mocker)
    http_mocker.get(endpoint.request, [rate_limited(retry_after=3), endpoint.ok])

    output = read_stream(stream, a_config().build(), with_rate_budget=False)

    assert records_of(output) == [emitted(record) for record in endpoint.records]
    assert retry_waits == [4.0]


@freeze_time(NOW)
@pytest.mark.parametrize("stream", STREAMS)
def test_given_500_then_success_when_read_then_retried_after_backoff_and_emits_records(
    http_mocker: HttpMocker, retry_waits: list[float], stream: str
) -> None:
    endpoint = ENDPOINTS[stream]
    endpoint.register_others(http_mocker)
    http_mocker.get(endpoint.request, [server_error(), endpoint.ok])

    output = read_stream(stream, a_config().build(), with_rate_budget=False)

    assert records_of(output) == [emitted(record) for record in endpoint.records]
    assert retry_waits == [3.0]


@pytest.mark.parametrize("stream", STREAMS)
def test_given_persistent_500_when_read_then_six_attempts_then_error_naming_endpoint_and_msg(
    http_mocker: HttpMocker, retry_waits: list[float], stream: str
) -> None:
    endpoint = ENDPOINTS[stream]
    endpoint.register_others(http_mocker)
    http_mocker.get(endpoint.request, [server_error()] * 6)

    output = read_stream(stream, a_config().build(), expect_failure=True, with_rate_budget=False)

    path = path_of(endpoint.request)
    assert records_of(output) == []
    assert retry_waits == [3.0, 5.0, 9.0, 17.0, 31.0]
    assert output.errors[0].trace.error.message == (
        f"Iterable failed on https://api.iterable.com{path} (GenericError): An error occurred. Please try again "
        "later. If problem persists, please contact your CSM. HTTP 500 on all 6 attempts; Iterable may be having an "
        "outage. Retry the sync later."
    )


def test_given_persistent_429_when_read_then_six_attempts_then_rate_limit_error_naming_endpoint_and_msg(
    http_mocker: HttpMocker, retry_waits: list[float]
) -> None:
    http_mocker.get(a_request("channels").build(), [rate_limited(retry_after=10)] * 6)

    output = read_stream("channels", a_config().build(), expect_failure=True)

    error = output.errors[0].trace.error
    assert retry_waits == [11.0] * 5
    assert error.message == (
        "Iterable rate limit on https://api.iterable.com/api/channels (RateLimitExceeded): Exceeded rate limit for "
        "endpoint. HTTP 429 on all 6 attempts; another integration may be using the project's rate limit for this "
        "endpoint. Retry the sync later."
    )


LISTS_URL = "https://api.iterable.com/api/lists"


@pytest.mark.parametrize(
    "error, message",
    [
        pytest.param(
            stalled_body(),
            f"Iterable did not answer GET {LISTS_URL} in time (read timeout), on all 6 attempts; Iterable may be "
            "down, or the network or a proxy may drop the connection. Retry the sync later.",
            id="answer-stalled",
        ),
        pytest.param(
            requests.exceptions.ConnectTimeout("timed out"),
            f"Iterable did not accept the connection for GET {LISTS_URL} in time (connect timeout), on all 6 "
            "attempts; a firewall or proxy may block api.iterable.com, or Iterable may be down. Retry the sync later.",
            id="connect-timeout",
        ),
        pytest.param(
            refused(),
            f"api.iterable.com refused the connection for GET {LISTS_URL} (connection refused), on all 6 attempts; "
            "nothing accepts connections there: check region and api_base_url, and any proxy or firewall on the way.",
            id="refused",
        ),
        pytest.param(
            unresolved(),
            f"The host name api.iterable.com of GET {LISTS_URL} did not resolve (DNS lookup failed), on all 6 "
            "attempts; check region and api_base_url, and that this machine's DNS resolves Iterable's hosts.",
            id="dns",
        ),
        pytest.param(
            untrusted_certificate(),
            f"The TLS (https) connection to api.iterable.com failed for GET {LISTS_URL} (certificate not trusted: "
            "self-signed certificate in certificate chain), on all 6 attempts; a proxy that intercepts https, an "
            "outdated certificate store or a wrong system clock is the usual cause.",
            id="tls",
        ),
        pytest.param(
            closed_without_answer(),
            f"The connection to api.iterable.com broke during GET {LISTS_URL} (closed without an answer), on all 6 "
            "attempts; Iterable or the network may be unstable. Retry the sync later.",
            id="closed",
        ),
    ],
)
def test_given_a_request_that_never_gets_an_answer_when_read_then_six_attempts_then_error_naming_endpoint_and_cause(
    retry_waits: list[float], error: Exception, message: str
) -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get(LISTS_URL, exc=error)
        output = read_stream("lists", a_config().build(), expect_failure=True)

    errors = [(e.trace.error.failure_type.value, e.trace.error.message) for e in output.errors]
    assert mocker.call_count == 6
    assert retry_waits == [3.0, 5.0, 9.0, 17.0, 31.0]
    assert errors == [("transient_error", message), ("transient_error", f"1 stream(s) did not sync: lists: {message}")]


@pytest.mark.parametrize(
    "answer, message",
    [
        pytest.param(
            HttpResponse(
                "<html><body>Web server is returning an unknown error</body></html>", 520, {"Content-Type": "text/html"}
            ),
            f"Iterable answered GET {LISTS_URL} with HTTP 520 (not Iterable's JSON error, Content-Type: text/html), on "
            "all 6 attempts; Iterable may be having an outage. Retry the sync later.",
            id="520-html-from-a-proxy",
        ),
        pytest.param(
            error_response(408, "RequestTimeout", "Request took too long"),
            f"Iterable answered GET {LISTS_URL} with HTTP 408 (RequestTimeout: Request took too long), on all 6 "
            "attempts; Iterable, or a proxy on the way, gave up waiting for the request. Retry the sync later.",
            id="408",
        ),
    ],
)
def test_given_a_status_no_filter_words_when_read_then_six_attempts_then_error_naming_endpoint_status_and_kind_of_body(
    http_mocker: HttpMocker, retry_waits: list[float], answer: HttpResponse, message: str
) -> None:
    http_mocker.get(a_request("lists").build(), [answer] * 6)

    output = read_stream("lists", a_config().build(), expect_failure=True)

    assert retry_waits == [3.0, 5.0, 9.0, 17.0, 31.0]
    assert output.errors[0].trace.error.message == message
