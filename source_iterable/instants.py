"""Iterable's timestamps, in whatever form it sends them, as RFC 3339 UTC strings (`2026-01-14T06:20:22Z`).

Exports write `2026-01-14 06:20:22 +00:00`; REST endpoints write epoch milliseconds (campaigns, lists, …) or
ISO-8601 strings (snippets, and templates or catalog items per Iterable's API definition). One rule for all: an
RFC 3339 UTC string, the fraction kept to the microsecond and left out when zero. Used by the manifest's timestamp
transformations (components/timestamps.py) and by the export engine's planning (export/data_json.py).
"""

import re
from datetime import datetime, timedelta
from typing import Any

# date, time, optional fraction(s) (the malformed `34.134105.000Z` form has two; ASCII digits: they are copied),
# optional zone.
_SLOW_FORM = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})((?:\.[0-9]+)*)\s*(Z|[+-]\d{2}:?\d{2}|UTC)?")


def to_rfc3339(value: str) -> str:
    """Return `value` as an RFC 3339 UTC string if it has the shape of a date-time, else `value` unchanged.

    Fast path (Iterable's usual form, by slicing): `2026-01-14 06:20:22 +00:00` -> `2026-01-14T06:20:22Z`.
    Slow path: `T` or space separator, a fraction (the first one of the malformed `.134105.000Z` form; kept to
    microseconds, dropped when zero), zone `Z`/`UTC`/`±HH:MM`/`±HHMM` (converted to UTC) or none (read as UTC).
    A value that is not a real date-time (month 13, hour 24), or whose UTC moment falls outside years 1-9999,
    stays unchanged. The digits are copied, not reformatted, unless an offset moves the moment.
    """
    if len(value) == 26 and value[10] == " " and value.endswith(" +00:00") and value[4] == "-":
        return f"{value[:10]}T{value[11:19]}Z"
    if len(value) < 19 or value[4] != "-" or value[13] != ":":
        return value
    match = _SLOW_FORM.fullmatch(value)
    if match is None:
        return value
    date, time, fractions, zone = match.groups()
    text = f"{date}T{time}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return value
    if zone is not None and zone != "Z" and zone != "UTC":
        digits = zone[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:])
        if minutes:
            try:
                moment -= timedelta(minutes=minutes if zone[0] == "+" else -minutes)
            except OverflowError:
                return value
            text = moment.isoformat()
    fraction = fractions[1:].split(".", 1)[0][:6].rstrip("0") if fractions else ""
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"


def _format(moment: datetime) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    micros = moment.microsecond
    return f"{text}.{micros:06d}".rstrip("0") + "Z" if micros else f"{text}Z"


_EPOCH = datetime(1970, 1, 1)


def instant_to_rfc3339(value: Any) -> Any:
    """Return any of Iterable's timestamp forms as an RFC 3339 UTC string; other values unchanged.

    Epoch milliseconds (an integer, or a string of digits), ISO-8601 with `T` or a space and any zone, and the
    export form. A number outside the years 1-9999 (or not finite) and a string without a date-time shape are
    returned as they are.
    """
    kind = type(value)
    if kind is str:
        if value.isdigit():
            return instant_to_rfc3339(int(value))
        return to_rfc3339(value)
    if kind is int or kind is float:
        try:
            return _format(_EPOCH + timedelta(milliseconds=value))
        except (OverflowError, ValueError):  # beyond year 9999, or NaN/infinity
            return value
    return value
