"""Template content streams (manifest `template_content`): one GET templates/{medium}/get per template of the
medium whose updatedAt moved since the last sync, the `templates` list of that medium (messageMedium=<medium>) as
parent, read from the state the stream kept of it (`parent_state`)."""

import json
from datetime import UTC, datetime
from typing import Any

from airbyte_cdk.models import AirbyteStreamStatus, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.mock_http import HttpMocker, HttpResponse
from airbyte_cdk.test.state_builder import StateBuilder

from source_iterable.source import SourceIterable
from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of, warnings_of
from unit_tests.mock_server.request_builder import a_paged_request, a_request
from unit_tests.mock_server.response_builder import (
    a_template,
    an_email_template,
    error_response,
    json_response,
    records_response,
)

TEMPLATE_TYPES = ["Base", "Blast", "Triggered", "Workflow"]
JAN_1 = 1_704_067_200_000  # 2024-01-01T00:00:00Z
FEB_1 = 1_706_745_600_000  # 2024-02-01T00:00:00Z
STOPS = "The stream stops here, so that its state does not move past records it did not read; retry the sync later."


def _register_lists(http_mocker: HttpMocker, medium: str, templates: dict[str, list[dict[str, Any]]]) -> None:
    """GET templates?templateType=…&messageMedium=<medium> for each template type; `templates[type]` its page."""
    for template_type in TEMPLATE_TYPES:
        request = a_paged_request("templates", 1, 1000).with_param("templateType", template_type)
        http_mocker.get(
            request.with_param("messageMedium", medium).build(),
            records_response("templates", templates.get(template_type, [])),
        )


def _content_request(path: str, template_id: int) -> Any:
    return a_request(f"templates/{path}/get").with_param("templateId", template_id).build()


def _state_after(templates: dict[str, int], medium: str = "Email") -> dict[str, Any]:
    """The state a previous sync left: the list's cursor per template type (epoch ms of its newest template)."""
    return {
        "use_global_cursor": True,
        "state": {"updatedAt": "2024-01-01T00:00:00.000Z"},
        "parent_state": {
            "templates": {
                "use_global_cursor": False,
                "states": [
                    {
                        "partition": {"messageMedium": medium, "templateType": template_type},
                        "cursor": {"updatedAt": _rfc3339_ms(updated)},
                    }
                    for template_type, updated in templates.items()
                ],
            }
        },
    }


def _rfc3339_ms(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def test_given_templates_of_the_medium_when_read_then_one_content_record_each_with_the_lists_updated_at(
    http_mocker: HttpMocker,
) -> None:
    _register_lists(http_mocker, "Email", {"Base": [a_template(1, JAN_1)], "Blast": [a_template(2, FEB_1)]})
    http_mocker.get(_content_request("email", 1), json_response(an_email_template(1)))
    http_mocker.get(_content_request("email", 2), json_response(an_email_template(2, "Winter sale")))

    output = read_stream("email_templates", a_config().build(), SyncMode.incremental)

    assert sorted(records_of(output), key=lambda record: record["templateId"]) == [
        {
            **an_email_template(1),
            "updatedAt": "2024-01-01T00:00:00Z",
            "metadata": {"templateId": 1, "createdAt": "2023-11-14T22:13:20Z", "updatedAt": "2024-01-01T00:00:00Z"},
        },
        {
            **an_email_template(2, "Winter sale"),
            "updatedAt": "2024-02-01T00:00:00Z",
            "metadata": {"templateId": 2, "createdAt": "2023-11-14T22:13:20Z", "updatedAt": "2024-01-01T00:00:00Z"},
        },
    ]


def test_given_each_medium_when_read_then_its_list_is_asked_with_its_medium_and_content_from_its_endpoint(
    http_mocker: HttpMocker,
) -> None:
    media = {
        "push_templates": ("Push", "push"),
        "sms_templates": ("SMS", "sms"),
        "in_app_templates": ("InApp", "inapp"),
        "embedded_templates": ("Embedded", "embedded"),
    }
    for template_id, (medium, path) in enumerate(media.values(), start=1):
        _register_lists(http_mocker, medium, {"Triggered": [a_template(template_id, JAN_1)]})
        http_mocker.get(_content_request(path, template_id), json_response({"templateId": template_id}))
    catalog = CatalogBuilder()
    for stream in media:
        catalog = catalog.with_stream(stream, SyncMode.incremental)
    config = a_config().build()

    output = read(SourceIterable(catalog=catalog.build(), config=config), config, catalog.build())

    assert sorted((message.record.stream, message.record.data["templateId"]) for message in output.records) == [
        ("embedded_templates", 4),
        ("in_app_templates", 3),
        ("push_templates", 1),
        ("sms_templates", 2),
    ]


def test_given_a_state_when_read_then_only_templates_whose_updated_at_moved_are_asked_for(
    http_mocker: HttpMocker,
) -> None:
    # Base: 1 is older than the saved cursor, 2 is the template the previous sync read last (equal), 3 is newer.
    _register_lists(
        http_mocker,
        "Email",
        {"Base": [a_template(1, JAN_1 - 1), a_template(2, JAN_1), a_template(3, JAN_1 + 1)]},
    )
    http_mocker.get(_content_request("email", 3), json_response(an_email_template(3)))
    state = StateBuilder().with_stream_state("email_templates", _state_after({"Base": JAN_1})).build()

    output = read_stream("email_templates", a_config().build(), SyncMode.incremental, state)

    assert [record["templateId"] for record in records_of(output)] == [3]
    new_state = output.most_recent_state.stream_state.__dict__
    assert new_state["state"] == {"updatedAt": "2024-01-01T00:00:00.001Z"}
    assert {
        "partition": {"messageMedium": "Email", "templateType": "Base"},
        "cursor": {"updatedAt": "2024-01-01T00:00:00.001Z"},
    } in new_state["parent_state"]["templates"]["states"]


def test_given_no_template_changed_when_read_then_only_the_lists_are_asked_for_and_the_state_stays(
    http_mocker: HttpMocker,
) -> None:
    _register_lists(http_mocker, "Email", {"Base": [a_template(1, JAN_1 - 5), a_template(2, JAN_1)]})
    state = StateBuilder().with_stream_state("email_templates", _state_after({"Base": JAN_1})).build()

    output = read_stream("email_templates", a_config().build(), SyncMode.incremental, state)

    assert records_of(output) == []
    parent = output.most_recent_state.stream_state.__dict__["parent_state"]["templates"]
    base_email = {"messageMedium": "Email", "templateType": "Base"}
    assert {"partition": base_email, "cursor": {"updatedAt": _rfc3339_ms(JAN_1)}} in parent["states"]


def test_given_templates_without_default_locale_content_when_read_then_skipped_with_one_log_line(
    http_mocker: HttpMocker,
) -> None:
    _register_lists(http_mocker, "Email", {"Base": [a_template(i, JAN_1 + i) for i in (1, 2, 3)]})
    http_mocker.get(_content_request("email", 1), json_response(an_email_template(1)))
    for template_id in (2, 3):
        http_mocker.get(
            _content_request("email", template_id),
            error_response(404, "NotFound", "Content does not exist for specified locale"),
        )

    output = read_stream("email_templates", a_config().build(), SyncMode.incremental)

    assert [record["templateId"] for record in records_of(output)] == [1]
    lines = [message.log.message for message in output.logs if "templates/email/get" in message.log.message]
    lines += [message.log.message for message in output.logs if "default locale" in message.log.message]
    assert lines == [
        "email_templates: 2 of 3 templates read have no content in the default locale (Iterable answered 404); "
        "they were skipped."
    ]
    assert output.get_stream_statuses("email_templates")[-1] == AirbyteStreamStatus.COMPLETE


def test_given_an_html_page_for_a_template_when_read_incrementally_then_stream_fails_naming_it_and_state_stays(
    http_mocker: HttpMocker,
) -> None:
    """Other bodies that are not a template (empty, an error envelope, JSON without templateId) are refused the same
    way (unit_tests/components/test_template_content.py)."""
    _register_lists(http_mocker, "Email", {"Base": [a_template(2, JAN_1 + 1)]})
    page = HttpResponse("<html><body>Bad gateway</body></html>", 200, {"Content-Type": "text/html"})
    http_mocker.get(_content_request("email", 2), page)
    incoming = _state_after({"Base": JAN_1})
    state = StateBuilder().with_stream_state("email_templates", incoming).build()

    output = read_stream("email_templates", a_config().build(), SyncMode.incremental, state, expect_failure=True)

    error = output.errors[0].trace.error
    assert (error.failure_type.value, error.message) == (
        "system_error",
        "Iterable answered GET /api/templates/email/get templateId 2 with HTTP 200 and a body that is not valid JSON "
        "(text/html): '<html><body>Bad gateway</body></html>', instead of a JSON object with templateId (the "
        f"template's content). {STOPS}",
    )
    parent_states = [
        message.state.stream.stream_state.__dict__.get("parent_state") for message in output.state_messages
    ]
    assert parent_states == [incoming["parent_state"]]  # the incoming list state: template 2 was not read
    assert output.get_stream_statuses("email_templates")[-1] == AirbyteStreamStatus.INCOMPLETE


def test_given_a_key_that_may_not_read_content_when_read_then_stream_fails_once_with_what_to_do(
    http_mocker: HttpMocker,
) -> None:
    _register_lists(http_mocker, "Email", {"Base": [a_template(1, JAN_1)]})
    http_mocker.get(_content_request("email", 1), error_response(403, "Forbidden", "Not allowed for this key"))

    output = read_stream("email_templates", a_config().build(), SyncMode.incremental, expect_failure=True)

    error = output.errors[0].trace.error
    assert (error.failure_type.value, error.message) == (
        "config_error",
        "Iterable refused https://api.iterable.com/api/templates/email/get (Forbidden: Not allowed for this key): "
        "the API key can list templates but not read their content. Use a key that can, or deselect "
        "email_templates.",
    )


def test_given_iterable_refuses_the_embedded_medium_when_read_then_stream_is_skipped_with_a_warning(
    http_mocker: HttpMocker,
) -> None:
    for template_type in TEMPLATE_TYPES:
        request = a_paged_request("templates", 1, 1000).with_param("templateType", template_type)
        http_mocker.get(
            request.with_param("messageMedium", "Embedded").build(),
            error_response(400, "BadParams", "Invalid value for messageMedium"),
        )

    output = read_stream("embedded_templates", a_config().build(), SyncMode.incremental)

    assert records_of(output) == []
    assert set(warnings_of(output)) == {
        "Skipping stream embedded_templates: Iterable does not list templates by messageMedium=Embedded "
        "(BadParams: Invalid value for messageMedium), so the embedded templates cannot be picked out of the "
        "others; the sync goes on without them."
    }
    assert output.get_stream_statuses("embedded_templates")[-1] == AirbyteStreamStatus.COMPLETE


def test_given_a_template_listed_twice_when_read_then_its_content_is_asked_for_once(http_mocker: HttpMocker) -> None:
    _register_lists(http_mocker, "Email", {"Base": [a_template(1, JAN_1), a_template(1, JAN_1)]})
    http_mocker.get(_content_request("email", 1), json_response(an_email_template(1)))

    output = read_stream("email_templates", a_config().build(), SyncMode.incremental)

    assert [record["templateId"] for record in records_of(output)] == [1]


def test_given_a_bad_body_among_good_ones_when_read_then_no_state_holds_a_list_cursor_past_it(
    http_mocker: HttpMocker,
) -> None:
    _register_lists(
        http_mocker,
        "Email",
        {"Base": [a_template(1, JAN_1 + 1), a_template(2, JAN_1 + 2)], "Blast": [a_template(3, FEB_1)]},
    )
    http_mocker.get(_content_request("email", 1), json_response(an_email_template(1)))
    http_mocker.get(_content_request("email", 2), HttpResponse("", 200))
    http_mocker.get(_content_request("email", 3), json_response(an_email_template(3)))
    incoming = _state_after({"Base": JAN_1, "Blast": JAN_1})
    state = StateBuilder().with_stream_state("email_templates", incoming).build()

    output = read_stream("email_templates", a_config().build(), SyncMode.incremental, state, expect_failure=True)

    assert sorted(record["templateId"] for record in records_of(output)) == [1, 3]
    states = [message.state.stream.stream_state.__dict__ for message in output.state_messages]
    cursors = {json.dumps([state["state"], state["parent_state"]["templates"]["states"]]) for state in states}
    assert cursors == {json.dumps([incoming["state"], incoming["parent_state"]["templates"]["states"]])}
