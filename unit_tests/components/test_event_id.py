"""EventIdAdder: a deterministic key from the data type and the fields that identify an event."""

from typing import Any

import pytest

from source_iterable.components.event_id import EventIdAdder

SEND = {
    "createdAt": "2025-01-02T03:04:05Z",
    "email": "a@example.com",
    "campaignId": 12,
    "templateId": 34,
    "messageId": "m-1",
    "messageBusId": "bus-9",
}


def event_id(record: dict[str, Any], data_type: str = "emailSend") -> str:
    copy = dict(record)
    EventIdAdder(data_type="{{ parameters['data_type'] }}", parameters={"data_type": data_type}).transform(copy)
    return str(copy["_iterable_event_id"])


def test_given_a_send_then_id_is_the_blake2b_of_type_and_identifying_fields() -> None:
    # blake2b(digest_size=16) of "emailSend␟2025-01-02T03:04:05Z␟a@example.com␟␟␟m-1␟12␟34␟␟␟␟" (␟ = U+001F):
    # type, createdAt, email, userId, itblUserId, messageId, campaignId, templateId, eventName, id, url, hrefIndex
    assert event_id(SEND) == "6d61700b11b998a5d494b1ca956a6cab"


def test_given_the_same_event_twice_then_ids_are_equal() -> None:
    assert event_id(SEND) == event_id(dict(SEND))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"createdAt": "2025-01-02T03:04:06Z"}, id="createdAt"),
        pytest.param({"email": "b@example.com"}, id="email"),
        pytest.param({"userId": "u-1"}, id="userId"),
        pytest.param({"messageId": "m-2"}, id="messageId"),
        pytest.param({"campaignId": 13}, id="campaignId"),
        pytest.param({"templateId": 35}, id="templateId"),
        pytest.param({"eventName": "viewed"}, id="eventName"),
        pytest.param({"url": "https://x"}, id="url"),
        pytest.param({"hrefIndex": 2}, id="hrefIndex"),
    ],
)
def test_given_an_identifying_field_differs_then_ids_differ(change: dict[str, Any]) -> None:
    assert event_id({**SEND, **change}) != event_id(SEND)


def test_given_only_a_non_identifying_field_differs_then_ids_are_equal() -> None:
    assert event_id({**SEND, "messageBusId": "bus-10", "locale": "en"}) == event_id(SEND)


def test_given_two_data_types_then_the_same_fields_give_different_ids() -> None:
    assert event_id(SEND, "emailOpen") != event_id(SEND, "emailSend")
