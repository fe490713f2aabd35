"""Cursor values of an incoming state, rewritten to the form each stream's cursor writes, before the read.

A state edited by hand or written by another version can hold `1704067200000` where a date-time is expected,
an ISO date where epoch milliseconds are, or `"banana"`; the CDK's cursor then fails with a stack trace. Every
value that names an instant is accepted — epoch milliseconds (or seconds, below 10^11), digits in a string, ISO
8601 / RFC 3339 with any offset, Iterable's `2024-01-01 00:00:00 +00:00` — and written with the stream's
`datetime_format` from the manifest (so a change of cursor format there needs no change here); anything else is
a config error naming the stream and the value.
"""

import copy
import json
import math
from collections.abc import Iterator, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

from airbyte_cdk.models import AirbyteStateMessage, AirbyteStateType
from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver
from airbyte_cdk.utils.datetime_helpers import ab_datetime_parse

from source_iterable.config_errors import config_error

_FORMATTER = DatetimeParser()
SECONDS_BELOW = 10**11  # an epoch number below this is in seconds (10^11 s is the year 5138; 10^11 ms is 1973)


class Cursor(NamedTuple):
    field: str
    datetime_format: str


def stream_cursors(manifest: Mapping[str, Any]) -> dict[str, Cursor]:
    """The cursor field and `datetime_format` of every incremental stream of the (unresolved) manifest."""
    resolved = ManifestReferenceResolver().preprocess_manifest(copy.deepcopy(dict(manifest)))
    cursors = {}
    for stream in _streams(resolved["streams"]):
        incremental = stream.get("incremental_sync")
        name = stream.get("name") or (stream.get("$parameters") or {}).get("name")
        if incremental and name:
            cursors[name] = Cursor(incremental["cursor_field"], incremental["datetime_format"])
    return cursors


def _streams(entries: list[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    for entry in entries:
        if entry.get("type") == "ConditionalStreams":
            yield from _streams(entry["streams"])
        else:
            yield entry


def normalise_state(state: list[AirbyteStateMessage], cursors: Mapping[str, Cursor]) -> list[AirbyteStateMessage]:
    """`state` with each cursor value of a known stream rewritten (in place) to its cursor's form."""
    for message in state:
        if message.type != AirbyteStateType.STREAM or message.stream is None or message.stream.stream_state is None:
            continue
        name = message.stream.stream_descriptor.name
        cursor = cursors.get(name)
        if cursor is None:
            continue
        for holder in _cursor_holders(message.stream.stream_state.__dict__):
            if cursor.field in holder:
                holder[cursor.field] = normalise_value(name, cursor, holder[cursor.field])
    return state


def _cursor_holders(stream_state: MutableMapping[str, Any]) -> Iterator[MutableMapping[str, Any]]:
    """The objects that hold a cursor value: the state itself, a per-partition state's global `state` and each
    partition's `cursor`."""
    yield stream_state
    if isinstance(stream_state.get("state"), MutableMapping):
        yield stream_state["state"]
    for partition in stream_state.get("states") or []:
        if isinstance(partition, Mapping) and isinstance(partition.get("cursor"), MutableMapping):
            yield partition["cursor"]


def normalise_value(stream: str, cursor: Cursor, value: Any) -> str:
    moment = instant(value)
    if moment is None:
        raise config_error(
            f"The state of stream '{stream}' has {cursor.field} {json.dumps(value, default=str)}, which is not a "
            "date: give epoch milliseconds (1704067200000) or an ISO 8601 date-time (2024-01-01T00:00:00Z)."
        )
    # The CDK's own formatter: it writes its directives (`%ms`, `%s`, `%_ms`) as the cursor will parse them.
    return _FORMATTER.format(moment, cursor.datetime_format)


def instant(value: Any) -> datetime | None:
    """The UTC instant `value` names, or None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return _from_epoch(int(text))
        try:
            return ab_datetime_parse(text).astimezone(UTC)
        except (ValueError, OverflowError):
            return None
    if isinstance(value, int | float) and math.isfinite(value):
        return _from_epoch(value)
    return None


def _from_epoch(number: float) -> datetime | None:
    seconds = number if abs(number) < SECONDS_BELOW else number / 1000
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
