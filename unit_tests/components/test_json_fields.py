"""JsonStringFieldParser: `transactionalData` sent as a JSON string becomes an object."""

from typing import Any

import pytest

from source_iterable.components.json_fields import JsonStringFieldParser


@pytest.mark.parametrize(
    "record, expected",
    [
        pytest.param(
            {"transactionalData": '{"orderId": "o-1", "items": [{"sku": "s", "qty": 2}]}'},
            {"transactionalData": {"orderId": "o-1", "items": [{"sku": "s", "qty": 2}]}},
            id="json-string-decoded",
        ),
        pytest.param({"transactionalData": {"a": 1}}, {"transactionalData": {"a": 1}}, id="object-kept"),
        pytest.param(
            {"transactionalData": "not json"}, {"transactionalData": "not json"}, id="invalid-json-kept-as-string"
        ),
        pytest.param({"transactionalData": None}, {"transactionalData": None}, id="null-kept"),
        pytest.param({"email": "a@x.com"}, {"email": "a@x.com"}, id="absent-field-not-added"),
        pytest.param({"other": '{"a": 1}'}, {"other": '{"a": 1}'}, id="unlisted-field-untouched"),
    ],
)
def test_transactional_data(record: dict[str, Any], expected: dict[str, Any]) -> None:
    JsonStringFieldParser(fields=["transactionalData"], parameters={}).transform(record)
    assert record == expected
