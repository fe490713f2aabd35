"""An order-independent checksum of a set of records, comparable between what was served and what was emitted.

Both sides are brought to one canonical form, independently of the connector's code, before hashing:
- served (Iterable's raw export line): top-level nulls dropped (the Airbyte protocol serialiser drops them),
  every timestamp in one of Iterable's forms (`2025-03-04 05:06:07 +00:00`, with a fraction, an offset, or the
  malformed `….134105.000Z`), at any depth, as an instant in epoch microseconds, `transactionalData` (a JSON
  string) parsed, its content kept as it is (the connector does not rewrite inside it);
- emitted (a RECORD message's `data`): `_iterable_event_id` removed (it is ours, not Iterable's; it must be a
  non-empty string), every RFC 3339 UTC timestamp (`2025-03-04T05:06:07Z`, `….134105Z`) at any depth but inside
  `transactionalData` as the same instant. A timestamp the connector left in Iterable's form, or rewrote inside
  `transactionalData`, stays a string on one side and not the other: the checksums differ.
The checksum is the record count and the sum, modulo 2**64, of a 64-bit BLAKE2 hash of each canonical record
serialised with sorted keys: any record changed, lost or duplicated changes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import blake2b
from typing import Any

import orjson

_MASK = (1 << 64) - 1
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:\.000)? ?(Z|[+-]\d\d:?\d\d)?$"
)
_RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z$")
_OPAQUE = "transactionalData"
EVENT_ID = "_iterable_event_id"


@dataclass
class Checksum:
    count: int = 0
    total: int = 0

    def add(self, canonical: dict[str, Any]) -> None:
        digest = blake2b(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS), digest_size=8).digest()
        self.count += 1
        self.total = (self.total + int.from_bytes(digest, "little")) & _MASK

    def __str__(self) -> str:
        return f"{self.count} records, sum {self.total:016x}"


def instant_us(text: str) -> int:
    """Epoch microseconds of `2025-03-04 05:06:07 +00:00`, `…07.134105.000Z` or RFC 3339 `2025-03-04T05:06:07Z`."""
    match = _TIMESTAMP.match(text)
    if not match:
        raise ValueError(f"not a timestamp: {text!r}")
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    moment = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    micros = int((fraction or "0").ljust(6, "0")[:6])
    if offset not in (None, "Z"):
        digits = offset[1:].replace(":", "")
        shift = (int(digits[:2]) * 60 + int(digits[2:])) * 60_000_000
        micros -= shift if offset[0] == "+" else -shift
    return int(moment.timestamp()) * 1_000_000 + micros


def _instants(value: Any, is_timestamp: Callable[[str], bool]) -> Any:
    """`value` with every string for which `is_timestamp` holds, at any depth, replaced by its `instant_us`."""
    kind = type(value)
    if kind is str:
        return instant_us(value) if is_timestamp(value) else value
    if kind is dict:
        return {key: _instants(item, is_timestamp) for key, item in value.items()}
    if kind is list:
        return [_instants(item, is_timestamp) for item in value]
    return value


def _served_timestamp(text: str) -> bool:
    return len(text) >= 19 and text[4] == "-" and _TIMESTAMP.match(text) is not None


def _emitted_timestamp(text: str) -> bool:
    return len(text) >= 20 and text[4] == "-" and _RFC3339_UTC.match(text) is not None


def _decoded(value: Any) -> Any:
    """A JSON string decoded; anything else, or a string that is not JSON, as it is."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def canonical_served(line: bytes) -> dict[str, Any]:
    raw = {key: value for key, value in orjson.loads(line).items() if value is not None}
    opaque = raw.pop(_OPAQUE, None)
    record = _instants(raw, _served_timestamp)
    if opaque is not None:
        record[_OPAQUE] = _decoded(opaque)
    return record


def canonical_emitted(data: dict[str, Any]) -> dict[str, Any]:
    raw = dict(data)
    event_id = raw.pop(EVENT_ID, None)
    if not isinstance(event_id, str) or not event_id:
        raise ValueError(f"record without a {EVENT_ID}: {data}")
    opaque = raw.pop(_OPAQUE, None)
    record = _instants(raw, _emitted_timestamp)
    if opaque is not None:
        record[_OPAQUE] = opaque
    return record


def of_served(lines: Iterable[bytes]) -> Checksum:
    checksum = Checksum()
    for line in lines:
        if line.strip():
            checksum.add(canonical_served(line))
    return checksum


@dataclass
class Output:
    """What a `read` wrote: the checksum of its RECORD messages and the count of every message type."""

    records: Checksum
    message_types: dict[str, int]
    last_state: Any


def of_output(lines: Iterable[bytes], stream: str) -> Output:
    checksum = Checksum()
    types: dict[str, int] = {}
    last_state = None
    for line in lines:
        message = orjson.loads(line)
        kind = message["type"]
        types[kind] = types.get(kind, 0) + 1
        if kind == "RECORD" and message["record"]["stream"] == stream:
            checksum.add(canonical_emitted(message["record"]["data"]))
        elif kind == "STATE":
            last_state = message["state"]
    return Output(checksum, types, last_state)
