"""Issue 12 §2: a 2xx REST page that is not the expected JSON fails its stream, naming endpoint, page and what came
back (a short, masked excerpt); the state never moves past records not read.

campaigns page 1 is fine, page 2 is the bad body. Empty lists, wrapped catalogs and the metadata object stay fine.
"""

from typing import Any

import pytest
from airbyte_cdk.models import AirbyteStreamStatus, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.mock_server.config import API_KEY, a_config
from unit_tests.mock_server.helpers import read_stream, records_of
from unit_tests.mock_server.request_builder import a_paged_request, a_request
from unit_tests.mock_server.response_builder import (
    a_campaign,
    a_metadata_key,
    json_response,
    next_page_url,
    records_response,
    wrapped_records_response,
)

STOPS = "The stream stops here, so that its state does not move past records it did not read; retry the sync later."
BAD_PAGES = [
    pytest.param(
        HttpResponse("<html><body><h1>502 Bad Gateway</h1></body></html>", 200, {"Content-Type": "text/html"}),
        "a body that is not valid JSON (text/html): '<html><body><h1>502 Bad Gateway</h1></body></html>'",
        id="html",
    ),
    pytest.param(HttpResponse("", 200), "an empty body", id="empty"),
    pytest.param(
        HttpResponse('{"campaigns": [{"id": 3, "name": "Spring', 200, {"Content-Type": "application/json"}),
        """a body that is not valid JSON (application/json): '{"campaigns": [{"id": 3, "name": "Spring'""",
        id="truncated",
    ),
    pytest.param(
        json_response({"msg": "An error occurred. Please try again later.", "code": "GenericError"}),
        "Iterable's error GenericError: 'An error occurred. Please try again later.'",
        id="error-envelope",
    ),
    pytest.param(
        json_response({"msg": f"Invalid API key {API_KEY}", "code": "BadApiKey"}),
        "Iterable's error BadApiKey: 'Invalid API key ****'",
        id="error-envelope-echoing-the-key",
    ),
    pytest.param(
        json_response({"templates": []}),
        """JSON without it: '{"templates": []}'""",
        id="other-key",
    ),
]


def _campaign_pages(http_mocker: HttpMocker, page_2: HttpResponse) -> None:
    http_mocker.get(
        a_paged_request("campaigns", 1, 1000, sort="id").build(),
        records_response(
            "campaigns",
            [a_campaign(1, updated_at=1_706_000_000_000)],
            next_page_url("campaigns", 2, 1000, sort="id"),
        ),
    )
    http_mocker.get(a_paged_request("campaigns", 2, 1000, sort="id").build(), page_2)


@pytest.mark.parametrize("page_2, what", BAD_PAGES)
def test_given_a_bad_second_page_when_read_incrementally_then_stream_fails_naming_page_and_body_and_state_stays(
    http_mocker: HttpMocker, page_2: HttpResponse, what: str
) -> None:
    _campaign_pages(http_mocker, page_2)
    state = StateBuilder().with_stream_state("campaigns", {"updatedAt": "1704500000000"}).build()

    output = read_stream("campaigns", a_config().build(), SyncMode.incremental, state, expect_failure=True)

    message = f"Iterable answered GET /api/campaigns page 2 with HTTP 200 and {what}, instead of JSON with 'campaigns'. {STOPS}"
    assert next(error.trace.error.message for error in output.errors) == message
    assert next(error.trace.error.failure_type.value for error in output.errors) == "system_error"
    assert [message.state.stream.stream_state.__dict__ for message in output.state_messages] == [
        {"updatedAt": "2024-01-06T00:13:20.000Z"}  # the incoming state (1704500000000), not page 1's 1706000000000
    ]
    assert output.get_stream_statuses("campaigns")[-1] == AirbyteStreamStatus.INCOMPLETE


def test_given_a_bad_second_page_when_read_in_full_then_stream_is_incomplete_not_complete(
    http_mocker: HttpMocker,
) -> None:
    _campaign_pages(http_mocker, HttpResponse("", 200))

    output = read_stream("campaigns", a_config().build(), expect_failure=True)

    assert [record["id"] for record in records_of(output)] == [1]
    assert AirbyteStreamStatus.COMPLETE not in output.get_stream_statuses("campaigns")


def test_given_an_empty_list_under_the_records_key_when_read_then_no_records_and_no_error(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("lists").build(), records_response("lists", []))

    output = read_stream("lists", a_config().build())

    assert (records_of(output), output.errors) == ([], [])


def test_given_an_error_envelope_on_the_wrapped_catalogs_when_read_then_stream_fails(http_mocker: HttpMocker) -> None:
    http_mocker.get(
        a_paged_request("catalogs").build(), json_response({"msg": "Catalogs disabled", "code": "Forbidden"})
    )

    output = read_stream("catalogs", a_config().build(), expect_failure=True)

    assert next(error.trace.error.message for error in output.errors) == (
        "Iterable answered GET /api/catalogs page 1 with HTTP 200 and Iterable's error Forbidden: 'Catalogs disabled', "
        f"instead of JSON with 'catalogNames'. {STOPS}"
    )


def test_given_a_wrapped_catalogs_page_with_an_empty_list_when_read_then_no_error(http_mocker: HttpMocker) -> None:
    http_mocker.get(a_paged_request("catalogs").build(), wrapped_records_response("catalogNames", []))

    output = read_stream("catalogs", a_config().build())

    assert (records_of(output), output.errors) == ([], [])


def _metadata_parents(http_mocker: HttpMocker) -> None:
    http_mocker.get(a_request("metadata").build(), json_response({"results": [{"name": "stores"}]}))
    http_mocker.get(
        a_request("metadata/stores").build(), json_response({"results": [a_metadata_key("stores", "berlin")]})
    )


def test_given_an_error_envelope_for_a_metadata_key_when_read_then_stream_fails(http_mocker: HttpMocker) -> None:
    _metadata_parents(http_mocker)
    http_mocker.get(a_request("metadata/stores/berlin").build(), json_response({"msg": "boom", "code": "GenericError"}))

    output = read_stream("metadata", a_config().build(), expect_failure=True)

    assert next(error.trace.error.message for error in output.errors) == (
        "Iterable answered GET /api/metadata/stores/berlin page 1 with HTTP 200 and Iterable's error GenericError: "
        f"'boom', instead of a JSON object. {STOPS}"
    )


def test_given_html_for_user_fields_when_read_then_stream_fails(http_mocker: HttpMocker) -> None:
    http_mocker.get(a_request("users/getFields").build(), HttpResponse("<html>", 200, {"Content-Type": "text/html"}))

    output = read_stream("user_fields", a_config().build(), expect_failure=True)

    assert next(error.trace.error.message for error in output.errors) == (
        "Iterable answered GET /api/users/getFields page 1 with HTTP 200 and a body that is not valid JSON "
        f"(text/html): '<html>', instead of JSON with 'fields'. {STOPS}"
    )


def test_given_a_long_body_when_it_fails_then_the_excerpt_is_cut_at_100_characters(http_mocker: HttpMocker) -> None:
    long_html = "<html>" + "x" * 500
    http_mocker.get(a_request("lists").build(), HttpResponse(long_html, 200, {"Content-Type": "text/html"}))

    output = read_stream("lists", a_config().build(), expect_failure=True)

    excerpt: Any = repr(long_html[:100] + "…")
    assert f"(text/html): {excerpt}, instead of" in output.errors[0].trace.error.message


# Issue 17: the forget list and the catalogs' field mappings refuse the same bad bodies, naming their endpoint.
NEW_ENDPOINT_BAD_BODIES = [
    pytest.param(
        HttpResponse("<html><body>Service Unavailable</body></html>", 200, {"Content-Type": "text/html"}),
        "a body that is not valid JSON (text/html): '<html><body>Service Unavailable</body></html>'",
        id="html",
    ),
    pytest.param(HttpResponse("", 200), "an empty body", id="empty"),
    pytest.param(
        json_response({"msg": "An error occurred. Please try again later.", "code": "GenericError", "params": None}),
        "Iterable's error GenericError: 'An error occurred. Please try again later.'",
        id="error-envelope",
    ),
    pytest.param(
        json_response({"catalogNames": []}), """JSON without it: '{"catalogNames": []}'""", id="no-records-key"
    ),
]


def _one_catalog(http_mocker: HttpMocker) -> None:
    http_mocker.get(a_paged_request("catalogs").build(), records_response("catalogNames", [{"name": "shoes"}]))


@pytest.mark.parametrize("body, what", NEW_ENDPOINT_BAD_BODIES)
def test_given_a_bad_body_on_users_forgotten_when_read_then_forgotten_users_fails_naming_the_endpoint(
    http_mocker: HttpMocker, body: HttpResponse, what: str
) -> None:
    http_mocker.get(a_request("users/forgotten").build(), body)

    output = read_stream("forgotten_users", a_config().build(), expect_failure=True)

    assert records_of(output) == []
    assert output.errors[0].trace.error.message == (
        f"Iterable answered GET /api/users/forgotten page 1 with HTTP 200 and {what}, instead of JSON with "
        f"'hashedEmails' or 'hashedUserIds'. {STOPS}"
    )
    assert output.get_stream_statuses("forgotten_users")[-1] == AirbyteStreamStatus.INCOMPLETE


def test_given_a_forget_list_with_a_non_string_hash_when_read_then_forgotten_users_fails_naming_the_endpoint(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("users/forgottenUserIds").build(), json_response({"hashedUserIds": ["ab", 7]}))

    output = read_stream("forgotten_users", a_config().with_project_type("userId").build(), expect_failure=True)

    assert output.errors[0].trace.error.message == (
        "Iterable answered GET /api/users/forgottenUserIds page 1 with HTTP 200 and JSON whose list is not a list of "
        """strings: '{"hashedUserIds": ["ab", 7]}', instead of JSON with 'hashedEmails' or 'hashedUserIds'. """ + STOPS
    )


@pytest.mark.parametrize("body, what", NEW_ENDPOINT_BAD_BODIES)
def test_given_a_bad_body_on_a_catalogs_field_mappings_when_read_then_catalog_field_mappings_fails_naming_it(
    http_mocker: HttpMocker, body: HttpResponse, what: str
) -> None:
    _one_catalog(http_mocker)
    http_mocker.get(a_request("catalogs/shoes/fieldMappings").build(), body)

    output = read_stream("catalog_field_mappings", a_config().build(), expect_failure=True)

    assert records_of(output) == []
    assert output.errors[0].trace.error.message == (
        f"Iterable answered GET /api/catalogs/shoes/fieldMappings page 1 with HTTP 200 and {what}, instead of JSON "
        f"with 'definedMappings' and 'undefinedFields'. {STOPS}"
    )
    assert output.get_stream_statuses("catalog_field_mappings")[-1] == AirbyteStreamStatus.INCOMPLETE


def test_given_field_mappings_without_undefined_fields_when_read_then_catalog_field_mappings_fails(
    http_mocker: HttpMocker,
) -> None:
    _one_catalog(http_mocker)
    http_mocker.get(
        a_request("catalogs/shoes/fieldMappings").build(), json_response({"definedMappings": {"size": "long"}})
    )

    output = read_stream("catalog_field_mappings", a_config().build(), expect_failure=True)

    assert output.errors[0].trace.error.message == (
        "Iterable answered GET /api/catalogs/shoes/fieldMappings page 1 with HTTP 200 and JSON without it: "
        """'{"definedMappings": {"size": "long"}}', instead of JSON with 'definedMappings' and 'undefinedFields'. """
        + STOPS
    )
