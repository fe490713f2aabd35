"""Typed, snake_cased rows of Iterable's metrics CSVs (campaigns, experiments): one type per column."""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_NOT_WORD = re.compile(r"[^0-9a-zA-Z]+")
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

# The one object on a row holding the text of every cell that was not a number, by snake_cased column.
NON_NUMERIC_CELLS = "_non_numeric_cells"
# The cells of a row beyond its header (csv.DictReader's key None), in order, as sent.
EXTRA_CELLS = "_extra_cells"


def snake_case(column: str, camel_case: bool = False) -> str:
    """`Total Email Sends` → `total_email_sends`, `Purchases / M (Email)` → `purchases_m_email`; with `camel_case`
    a capital after a small letter or digit starts a word too: `experimentId` → `experiment_id`."""
    if camel_case:
        column = _WORD_START.sub("_", column)
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


def _declared_types(column_schema: Any) -> set[str]:
    if not isinstance(column_schema, Mapping):
        return set()
    declared = column_schema.get("type")
    return {declared} if isinstance(declared, str) else set(declared) if isinstance(declared, list) else set()


@dataclass
class MetricRowTyping:
    """Rename each CSV column to snake_case and give every column one type: a number or null (text columns: text).

    Not KeysToSnakeCase: it leaves trailing underscores (`unique_email_opens_filtered_`); and a CSV gives every
    cell as text. Not a manifest transformation: it reads the stream's schema, which the metrics retriever is
    handed at read time (a schema's properties cannot be a custom component's field: the CDK takes a property
    named `type` for a component). A cell that is not a number (`N/A`, `nan`), or not a whole number in a column `columns` declares
    integer, becomes null and its text goes to `_non_numeric_cells` ({column: text}), so destinations can type the
    column as a number and nothing Iterable sent is lost. A column `columns` declares a string (and not a number)
    keeps its text. Cells beyond the header (a row longer than it) are kept, in order, in `_extra_cells`. An empty
    cell becomes None, which the CDK's serializer then leaves out of the emitted record (top-level nulls are
    dropped).

    `columns`: the stream schema's `properties`, read for which columns are integers or text.
    `camel_case`: `experimentId` → `experiment_id` (experiments' columns); off for campaigns' columns, whose names
    are words (`Total Email Sends`) and must keep the names 0.2.0 gave them.
    """

    columns: Mapping[str, Any]
    camel_case: bool = False

    def __post_init__(self) -> None:
        types = {name: _declared_types(schema) for name, schema in self.columns.items()}
        self._integer_columns = frozenset(name for name, declared in types.items() if "integer" in declared)
        self._text_columns = frozenset(
            name for name, declared in types.items() if "string" in declared and not {"integer", "number"} & declared
        )

    def transform(self, record: dict[Any, Any]) -> None:
        """Type `record` (a CSV row: header cell → text, extra cells under None) in place."""
        typed: dict[str, Any] = {}
        texts: dict[str, str] = {}
        for column, cell in record.items():
            if column is None:
                typed[EXTRA_CELLS] = list(cell)
                continue
            name = snake_case(column, self.camel_case)
            if name in self._text_columns:
                typed[name] = cell if isinstance(cell, str) and cell.strip() else None
                continue
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
