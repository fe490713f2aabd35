"""Typed, snake_cased rows of Iterable's campaign metrics CSV."""

import math
import re
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any

from airbyte_cdk.sources.declarative.transformations import RecordTransformation
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState

_NOT_WORD = re.compile(r"[^0-9a-zA-Z]+")


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


@dataclass
class MetricRowTyping(RecordTransformation):
    """Rename each CSV column to snake_case and turn numeric cells into numbers.

    Not KeysToSnakeCase: it leaves trailing underscores (`unique_email_opens_filtered_`); and the CsvDecoder
    yields every cell as text. An empty cell becomes None, which the CDK's serializer then leaves out of the
    emitted record (top-level nulls are dropped), so destinations read the column as null.
    """

    parameters: InitVar[Mapping[str, Any]]

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        typed = {snake_case(column): typed_cell(cell) for column, cell in record.items()}
        record.clear()
        record.update(typed)
