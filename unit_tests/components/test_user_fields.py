"""UserFieldsSchemaLoader: the users schema from users/getFields, typed, nested, renamed like the records."""

from typing import Any
from unittest.mock import Mock

import pytest
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.components.user_fields import (
    UserFieldsSchemaLoader,
    user_fields_schema,
)

NULLABLE_STRING = {"type": ["null", "string"]}
BASE = {
    "email": {"type": ["string", "null"]},
    "emailListIds": {"type": ["array", "null"], "items": {"type": "integer"}},
}


def test_given_each_iterable_type_then_it_maps_to_json_schema() -> None:
    fields = {
        "s": "string",
        "l": "long",
        "d": "double",
        "b": "boolean",
        "t": "date",
        "o": "object",
        "g": "geo_location",
        "n": "nested",
        "x": "unknownType",
    }
    assert user_fields_schema({}, fields)["properties"] == {
        "s": {"type": ["null", "string"]},
        "l": {"type": ["null", "integer"]},
        "d": {"type": ["null", "number"]},
        "b": {"type": ["null", "boolean"]},
        "t": {"type": ["null", "string"], "format": "date-time"},
        "o": {"type": ["null", "object"], "additionalProperties": True, "properties": {}},
        "g": {
            "type": ["null", "object"],
            "additionalProperties": True,
            "properties": {"lat": {"type": ["null", "number"]}, "lon": {"type": ["null", "number"]}},
        },
        "n": {
            "type": ["null", "array"],
            "items": {"type": ["null", "object"], "additionalProperties": True, "properties": {}},
        },
        "x": {},
    }


def test_given_dotted_paths_then_they_nest_under_objects_and_list_items() -> None:
    fields = {
        "address": "object",
        "address.city": "string",
        "orders": "nested",
        "orders.orderId": "string",
        "a.b.c": "long",
    }
    properties = user_fields_schema({}, fields)["properties"]
    assert properties["address"]["properties"] == {"city": NULLABLE_STRING}
    assert properties["orders"]["items"]["properties"] == {"orderId": NULLABLE_STRING}
    assert properties["a"] == {
        "type": ["null", "object"],
        "additionalProperties": True,
        "properties": {
            "b": {
                "type": ["null", "object"],
                "additionalProperties": True,
                "properties": {"c": {"type": ["null", "integer"]}},
            }
        },
    }


def test_given_case_collisions_then_the_schema_declares_the_renamed_fields() -> None:
    fields = {
        "Industry": "string",
        "industry": "string",
        "offers": "object",
        "offers.Intro APR": "double",
        "offers.intro APR": "string",
    }
    properties = user_fields_schema({}, fields)["properties"]
    assert sorted(properties) == ["_industry", "_offers", "industry", "offers"]
    assert properties["offers"]["properties"] == {"intro APR": NULLABLE_STRING}
    assert properties["_offers"]["properties"] == {"intro APR": {"type": ["null", "number"]}}


def test_given_a_field_in_the_base_schema_then_the_base_declaration_wins() -> None:
    schema = user_fields_schema(BASE, {"emailListIds": "long", "email": "string", "firstName": "string"})
    assert schema == {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": {**BASE, "firstName": NULLABLE_STRING},
    }


def a_loader(status: int, body: dict[str, Any]) -> UserFieldsSchemaLoader:
    requester = Mock()
    requester.send_request.return_value.status_code = status
    requester.send_request.return_value.json.return_value = body
    return UserFieldsSchemaLoader(requester=requester, base_properties=BASE, parameters={})


def test_given_getfields_when_schema_requested_then_fields_are_added_to_base() -> None:
    schema = a_loader(200, {"fields": {"firstName": "string"}}).get_json_schema()
    assert schema["properties"] == {**BASE, "firstName": NULLABLE_STRING}


FALLBACK_WARNING = (
    "Iterable's users/getFields failed ({cause}): the users stream is declared with its fixed fields only; the "
    "project's own user fields are still read, as fields the schema does not declare."
)


@pytest.mark.parametrize(
    "status, body, cause",
    [
        pytest.param(
            401, {"msg": "Invalid API key", "code": "BadApiKey"}, "HTTP 401 (BadApiKey: Invalid API key)", id="refused"
        ),
        pytest.param(200, {"unexpected": 1}, "HTTP 200 without a `fields` object", id="no-fields-object"),
        pytest.param(200, {"fields": ["email"]}, "HTTP 200 without a `fields` object", id="fields-not-an-object"),
        pytest.param(200, ["fields"], "HTTP 200 without a `fields` object", id="body-not-an-object"),
    ],
)
def test_given_getfields_without_a_field_map_then_the_base_schema_and_a_warning_naming_the_cause(
    status: int, body: Any, cause: str, caplog: pytest.LogCaptureFixture
) -> None:
    schema = a_loader(status, body).get_json_schema()
    assert schema["properties"] == BASE
    assert schema["additionalProperties"] is True
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        FALLBACK_WARNING.format(cause=cause)
    ]


def test_given_getfields_body_not_json_then_the_base_schema_and_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    loader = a_loader(200, {})
    loader.requester.send_request.return_value.json.side_effect = ValueError("Expecting value")
    assert loader.get_json_schema()["properties"] == BASE
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        FALLBACK_WARNING.format(cause="HTTP 200 with a body that is not JSON")
    ]


def test_given_the_requester_gives_up_then_the_base_schema_and_its_message_as_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    requester = Mock()
    requester.send_request.side_effect = AirbyteTracedException(message="Exhausted available request attempts.")
    schema = UserFieldsSchemaLoader(requester=requester, base_properties=BASE, parameters={}).get_json_schema()
    assert schema["properties"] == BASE
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        FALLBACK_WARNING.format(cause="Exhausted available request attempts.")
    ]
