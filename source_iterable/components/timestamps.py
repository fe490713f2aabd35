"""Record transformations that rewrite Iterable's timestamps as RFC 3339 UTC (the rule: source_iterable/instants.py)."""

from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

from airbyte_cdk.sources.declarative.transformations.transformation import (
    RecordTransformation,
)
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

from source_iterable.instants import instant_to_rfc3339, to_rfc3339


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


@dataclass
class TimestampFields(RecordTransformation):
    """Rewrite the named timestamp fields of a REST record as RFC 3339 UTC strings, whatever form they came in.

    Not `AddFields` with `format_datetime`: one Jinja expression per field per record cannot tell epoch
    milliseconds from ISO strings without a chain of tests, and `str_to_datetime` rejects the export form.
    Not `TimestampNormalizer`: epoch milliseconds are plain integers, so timestamps cannot be found by shape, only
    by name. `timestamp_fields` are dotted paths (`draft.updatedAt` is `record["draft"]["updatedAt"]`), set per
    stream through `$parameters`; a missing field or parent is skipped.
    """

    parameters: InitVar[Mapping[str, Any]]
    timestamp_fields: list[str] = field(default_factory=list)
    _paths: list[tuple[str, ...]] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._paths = [tuple(path.split(".")) for path in self.timestamp_fields]

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        for path in self._paths:
            parent: Any = record
            for segment in path[:-1]:
                parent = parent.get(segment) if type(parent) is dict else None
            if type(parent) is dict and parent.get(path[-1]) is not None:
                parent[path[-1]] = instant_to_rfc3339(parent[path[-1]])
