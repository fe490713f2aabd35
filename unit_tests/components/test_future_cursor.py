"""FutureCursorAsNow: a saved cursor later than now is read as now (in the cursor's own format), with a warning."""

import logging
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from source_iterable.components.future_cursor import FutureCursorAsNow

NOW = datetime(2024, 6, 2, 3, 4, 5, tzinfo=UTC)


def migration(cursor_field: str, datetime_format: str) -> FutureCursorAsNow:
    stream: Any = SimpleNamespace(
        name="a_stream", incremental_sync=SimpleNamespace(cursor_field=cursor_field, datetime_format=datetime_format)
    )
    return FutureCursorAsNow(declarative_stream=stream, config={}, parameters={}, clock=lambda: NOW)


@pytest.mark.parametrize(
    "state, future",
    [
        pytest.param({"synced_at": "2030-01-01T00:00:00Z"}, True, id="future"),
        pytest.param({"synced_at": "2024-06-02T03:04:06Z"}, True, id="one-second-ahead"),
        pytest.param({"synced_at": "2024-06-02T03:04:05Z"}, False, id="now"),
        pytest.param({"synced_at": "2024-06-01T00:00:00Z"}, False, id="past"),
        pytest.param({"synced_at": "banana"}, False, id="not-a-date-left-to-the-cursor"),
        pytest.param({}, False, id="no-state"),
        pytest.param({"state_type": "date-range", "slices": []}, False, id="concurrent-form"),
    ],
)
def test_only_a_cursor_after_now_is_migrated(state: dict[str, Any], future: bool) -> None:
    assert migration("synced_at", "%Y-%m-%dT%H:%M:%SZ").should_migrate(state) is future


@pytest.mark.parametrize(
    "cursor_field, datetime_format, value, now",
    [
        pytest.param("synced_at", "%Y-%m-%dT%H:%M:%SZ", "2030-01-01T00:00:00Z", "2024-06-02T03:04:05Z", id="moment"),
        pytest.param("date", "%Y-%m-%d", "2030-01-01", "2024-06-02", id="day"),
    ],
)
def test_a_future_cursor_becomes_now_in_the_cursor_format_with_a_warning_naming_stream_and_value(
    cursor_field: str, datetime_format: str, value: str, now: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        migrated = migration(cursor_field, datetime_format).migrate({cursor_field: value})

    assert migrated == {cursor_field: now}
    assert caplog.messages == [
        f"Stream a_stream: the state's {cursor_field} {value} is in the future (a clock that was ahead, or a "
        f"hand-edited state); it is read as now, {now}."
    ]
