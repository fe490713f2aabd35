"""Export fields that Iterable sends as JSON-encoded strings, decoded into objects."""

from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any

import orjson
from airbyte_cdk.sources.declarative.transformations.transformation import (
    RecordTransformation,
)
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState


@dataclass
class JsonStringFieldParser(RecordTransformation):
    """Replace each listed top-level field holding a JSON string (e.g. `transactionalData`) by the decoded value.

    No built-in transformation decodes a string field (`AddFields` with `json_loads` would work but re-evaluates a
    Jinja template per record, ~20 µs). A value that is not a string is left as is; a string that is not valid
    JSON is left unchanged too (kept, never dropped: the schemas declare these fields as object or string).
    """

    fields: list[str]
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._fields = tuple(self.fields)

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        for name in self._fields:
            value = record.get(name)
            if type(value) is str:
                try:
                    record[name] = orjson.loads(value)
                except orjson.JSONDecodeError:
                    pass
