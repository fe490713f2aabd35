"""Iterable's export timestamps (`2026-01-14 06:20:22 +00:00`) rewritten as RFC 3339 UTC (`2026-01-14T06:20:22Z`)."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from airbyte_cdk.sources.declarative.transformations.transformation import (
    RecordTransformation,
)
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

# date, time, optional fraction(s) (the malformed `34.134105.000Z` form has two), optional zone.
_SLOW_FORM = re.compile(
    r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})((?:\.\d+)*)\s*(Z|[+-]\d{2}:?\d{2}|UTC)?"
)


def to_rfc3339(value: str) -> str:
    """Return `value` as an RFC 3339 UTC string if it has the shape of a date-time, else `value` unchanged.

    Fast path (Iterable's usual form, by slicing): `2026-01-14 06:20:22 +00:00` -> `2026-01-14T06:20:22Z`.
    Slow path: `T` or space separator, a fraction (the first one of the malformed `.134105.000Z` form; kept to
    microseconds, dropped when zero), zone `Z`/`UTC`/`±HH:MM`/`±HHMM` (converted to UTC) or none (read as UTC).
    """
    if len(value) == 26 and value[10] == " " and value.endswith(" +00:00") and value[4] == "-":
        return f"{value[:10]}T{value[11:19]}Z"
    if len(value) < 19 or value[4] != "-" or value[13] != ":":
        return value
    match = _SLOW_FORM.fullmatch(value)
    if match is None:
        return value
    date, time, fractions, zone = match.groups()
    fraction = fractions.split(".")[1][:6].ljust(6, "0") if fractions else "000000"
    try:
        moment = datetime.fromisoformat(f"{date}T{time}.{fraction}")
    except ValueError:
        return value
    if zone and zone not in ("Z", "UTC"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    text = moment.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    micros = moment.microsecond
    return f"{text}.{micros:06d}".rstrip("0") + "Z" if micros else f"{text}Z"


def _normalize(container: dict[str, Any] | list[Any]) -> None:
    """Rewrite the timestamp-shaped strings of a dict or list in place, recursing into nested containers."""
    entries: Iterable[tuple[Any, Any]] = container.items() if type(container) is dict else enumerate(container)
    for key, value in entries:
        kind = type(value)
        if kind is str:
            if len(value) >= 19 and value[4] == "-":
                container[key] = to_rfc3339(value)
        elif kind is dict or kind is list:
            _normalize(value)


@dataclass
class TimestampNormalizer(RecordTransformation):
    """Rewrite every date-time-shaped string of an export record, at any depth, as an RFC 3339 UTC string.

    Not `AddFields` with `format_datetime`: that needs one entry per known field and parses with `strptime`
    (~10 µs per value); user profiles carry custom `date` fields whose names only the project knows. Detection is by
    shape (`YYYY-MM-DD HH:MM:SS…`, see `to_rfc3339`), so any string with that exact shape is treated as a timestamp.
    Runs before the cursor observes the record, so `createdAt`/`profileUpdatedAt` reach it already normalised.
    """

    parameters: InitVar[Mapping[str, Any]]

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        _normalize(record)
