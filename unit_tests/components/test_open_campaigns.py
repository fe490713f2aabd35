"""OpenCampaignsRetriever's helpers: the incoming open ids, and the CDK behaviour `keep_in_state` relies on."""

from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.state_builder import StateBuilder
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.cdk_adapter import keep_in_state
from source_iterable.components.open_campaigns import _open_ids
from source_iterable.source import SourceIterable

CONFIG = {"api_key": "k", "start_date": "2024-01-01", "api_base_url": "http://127.0.0.1:1"}


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param([], set(), id="empty"),
        pytest.param([500001, 500002], {500001, 500002}, id="integers"),
        pytest.param(["1234567890123456789"], {1234567890123456789}, id="digits"),
    ],
)
def test_given_a_list_of_campaign_ids_then_they_are_the_open_ids(value: Any, expected: set[int]) -> None:
    assert _open_ids(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("1,2", id="string"),
        pytest.param([True], id="boolean"),
        pytest.param([1.5], id="float"),
        pytest.param(None, id="null"),
        pytest.param({"1": True}, id="object"),
    ],
)
def test_given_anything_else_then_config_error_naming_the_value(value: Any) -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        _open_ids(value)

    assert raised.value.failure_type.value == "config_error"
    assert raised.value.message == (
        f"The state of stream 'campaigns' has open_campaign_ids {value!r}, which is not a list of campaign ids. "
        "Remove open_campaign_ids from the state (every campaign is then emitted once) or reset the stream."
    )


def campaigns_cursor(stream_state: dict[str, Any] | None) -> Cursor:
    """The cursor the manifest gives the incremental campaigns stream, built by the CDK from `stream_state`."""
    catalog = CatalogBuilder().with_stream("campaigns", SyncMode.incremental).build()
    state = StateBuilder().with_stream_state("campaigns", stream_state).build() if stream_state is not None else None
    source = SourceIterable(catalog=catalog, config=CONFIG, state=state)
    (stream,) = [stream for stream in source.streams(CONFIG) if stream.name == "campaigns"]
    return stream.cursor  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize(
    "stream_state, expected",
    [
        pytest.param(None, {"updatedAt": "1970-01-01T00:00:00.000Z", "open_campaign_ids": [7]}, id="no-state"),
        pytest.param(
            {"updatedAt": "2024-01-01T00:00:00.000Z", "open_campaign_ids": [1, 2]},
            {"updatedAt": "2024-01-01T00:00:00.000Z", "open_campaign_ids": [7]},
            id="replaced",
        ),
        pytest.param(
            {"__ab_no_cursor_state_message": True},
            {"updatedAt": "1970-01-01T00:00:00.000Z", "open_campaign_ids": [7]},
            id="platform-key-dropped",
        ),
    ],
)
def test_cdk_contract_a_key_kept_in_the_cursor_state_is_in_every_later_state(
    stream_state: dict[str, Any] | None, expected: dict[str, Any]
) -> None:
    """Pins the private CDK behaviour keep_in_state relies on (airbyte-cdk 7.39.1): `ConcurrentCursor.state` returns
    the same dict, with the incoming state's other keys, on every call. A CDK upgrade that breaks it fails here."""
    cursor = campaigns_cursor(stream_state)

    keep_in_state(cursor, "open_campaign_ids", [7])

    assert dict(cursor.state) == expected
