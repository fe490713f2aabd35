"""Which records of one export range were already emitted, so a re-read emits none twice."""

from array import array
from collections.abc import Mapping
from typing import Any

import orjson


class EmittedKeys:
    """The records of one range already emitted, so a re-read (retry after a cut, split halves) emits none twice.

    A record's key is a 64-bit hash of its primary key values (of its whole content when it has none). Until the
    first re-read the keys go in an `array('q')` (8 bytes a record, nothing looked up); `expect_repeats()` turns
    them into a set (about 60 bytes a record, only for a range that failed) that every later record is checked
    against. Two different records with colliding hashes (odds ~n²/2⁶⁵: 3·10⁻⁶ for ten million records in one
    failed range) would lose the later one: accepted for the memory saved.
    """

    def __init__(self, key_fields: tuple[str, ...]) -> None:
        self._fields = key_fields
        self._emitted: array[int] = array("q")
        self._seen: set[int] | None = None

    def key_of(self, record: Mapping[str, Any]) -> int:
        fields = self._fields
        if len(fields) == 1:
            value = record.get(fields[0])
            if value is not None:
                return hash(value)
        elif fields:
            values = tuple(record.get(name) for name in fields)
            if all(value is not None for value in values):
                return hash(values)
        return hash(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))

    def reset(self) -> None:
        """Forget every key: the records emitted so far cannot come again (their window is complete)."""
        self._emitted = array("q")
        self._seen = None

    def expect_repeats(self) -> None:
        if self._seen is None:
            self._seen = set(self._emitted)
            self._emitted = array("q")

    def first_time(self, record: Mapping[str, Any]) -> bool:
        """True (and remembered) the first time a record is offered."""
        key = self.key_of(record)
        seen = self._seen
        if seen is None:
            self._emitted.append(key)
            return True
        if key in seen:
            return False
        seen.add(key)
        return True


def key_fields(primary_key: str | list[str] | list[list[str]] | None) -> tuple[str, ...]:
    """The top-level field names of a stream's primary key."""
    if isinstance(primary_key, str):
        return (primary_key,)
    return tuple(str(part) for part in primary_key or ())
