"""Typed, snake_cased rows of Iterable's campaign metrics CSV: one type per column."""

import math
import re
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

_NOT_WORD = re.compile(r"[^0-9a-zA-Z]+")

# The one object on a row holding the text of every cell that was not a number, by snake_cased column.
NON_NUMERIC_CELLS = "_non_numeric_cells"


def snake_case(column: str) -> str:
    """`Total Email Sends` → `total_email_sends`, `Purchases / M (Email)` → `purchases_m_email`."""
    return _NOT_WORD.sub("_", column).strip("_").lower()


def typed_cell(cell: Any) -> int | float | str | None:
    """`"10"` → 10, `"1.5"` → 1.5, `""` → None; anything else (`"N/A"`, `"nan"`) stays the text it was."""
    if not isinstance(cell, str):
        return cell  # type: ignore[no-any-return]
    text = cell.strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return cell
    return number if math.isfinite(number) else cell


def _declares_integer(column_schema: Any) -> bool:
    if not isinstance(column_schema, Mapping):
        return False
    declared = column_schema.get("type")
    return declared == "integer" or (isinstance(declared, list) and "integer" in declared)


@dataclass
class MetricRowTyping(RecordTransformation):
    """Rename each CSV column to snake_case and give every column one type: a number or null.

    Not KeysToSnakeCase: it leaves trailing underscores (`unique_email_opens_filtered_`); and the CsvDecoder
    yields every cell as text. A cell that is not a number (`N/A`, `nan`), or not a whole number in a column
    `columns` declares integer, becomes null and its text goes to `_non_numeric_cells` ({column: text}), so
    destinations can type the column as a number and nothing Iterable sent is lost. An empty cell becomes None,
    which the CDK's serializer then leaves out of the emitted record (top-level nulls are dropped).

    `columns`: the stream schema's `properties` (manifest `$ref`), read for which columns are integers.
    """

    parameters: InitVar[Mapping[str, Any]]
    columns: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._integer_columns = frozenset(name for name, schema in self.columns.items() if _declares_integer(schema))

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        typed: dict[str, Any] = {}
        texts: dict[str, str] = {}
        for column, cell in record.items():
            name = snake_case(column)
            value = typed_cell(cell)
            if isinstance(value, float) and name in self._integer_columns:
                value = int(value) if value.is_integer() else str(cell)
            if isinstance(value, str):
                texts[name] = value
                value = None
            typed[name] = value
        if texts:
            typed[NON_NUMERIC_CELLS] = texts
        record.clear()
        record.update(typed)
