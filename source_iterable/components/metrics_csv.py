"""Iterable's metrics CSV bodies (`campaigns/metrics`, `experiments/metrics`), read strictly.

A 200 answer is trusted only when it is the CSV asked for: a header row naming the key columns, and in each row a
whole number in each key column. Anything else (an HTML page from a proxy or an outage, an empty body, junk rows)
raises `BadMetricsBody` saying what came back, so the stream fails before its state moves past campaigns it did
not read. The CDK's CsvDecoder cannot do this: it hides the header (a one-line HTML page is a header with no rows,
so zero records and a moved state) and yields junk rows as records.
"""

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.components.rest_body import excerpt

_WHOLE_NUMBER = re.compile(r"\s*\d+\s*")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")


class BadMetricsBody(ValueError):
    """A 200 body that is not the metrics CSV; the text says what came back (masked, short)."""


@dataclass(frozen=True)
class MetricsTable:
    """The rows of one metrics CSV: `rows[i]` maps each header cell to its text, as csv.DictReader does (a row
    longer than the header keeps its extra cells, in order, under the key None); `campaign_ids[i]` is row i's
    campaign, as the number in its campaign column (written as `str(int)`, like the listed ids)."""

    rows: list[dict[str | None, Any]]
    campaign_ids: list[str]


def column_key(name: str) -> str:
    """A header cell compared without case or separators: `campaignId`, `Campaign Id`, `campaign_id` → campaignid."""
    return _NOT_ALPHANUMERIC.sub("", name.lower())


def read_metrics_csv(content: bytes, content_type: str, key_columns: Sequence[str]) -> MetricsTable:
    """The rows of a metrics CSV body whose header names every one of `key_columns` (compared by `column_key`;
    the first is the campaign's), each row holding a whole number in each of them. Blank lines are skipped."""
    text = content.decode("utf-8-sig", errors="replace")
    if not text.strip():
        raise BadMetricsBody("an empty body")
    lines = csv.reader(io.StringIO(text, newline=""))
    try:
        return _table(lines, content, content_type, key_columns)
    except csv.Error as error:
        # csv's field limit (128 KiB): a metrics cell is a number or a short name, never that long.
        raise BadMetricsBody(f"a body that is not CSV ({error}, line {lines.line_num}): {excerpt(content)}") from None


def _table(lines: Any, content: bytes, content_type: str, key_columns: Sequence[str]) -> MetricsTable:
    header = next(_filled(lines), None)
    if header is None:
        raise BadMetricsBody(f"a body without a header row: {excerpt(content)}")
    positions = {column_key(cell): index for index, cell in reversed(list(enumerate(header)))}
    missing = [column for column in key_columns if column_key(column) not in positions]
    if missing:
        lacks = f"has no {quoted(missing)} column" if len(missing) == 1 else f"lacks the {quoted(missing)} columns"
        raise BadMetricsBody(f"a body whose first line {lacks} ({content_type}): {excerpt(content)}")
    rows: list[dict[str | None, Any]] = []
    campaign_ids = []
    for cells in _filled(lines):
        for column in key_columns:
            position = positions[column_key(column)]
            cell = cells[position] if position < len(cells) else ""
            if not _WHOLE_NUMBER.fullmatch(cell):
                line = ",".join(cells).encode()
                raise BadMetricsBody(
                    f"a row (line {lines.line_num}) whose {column} is {cell!r}, not a whole number: {excerpt(line)}"
                )
        row: dict[str | None, Any] = dict(zip(header, cells, strict=False))
        if len(cells) > len(header):
            row[None] = cells[len(header) :]
        rows.append(row)
        campaign_ids.append(str(int(cells[positions[column_key(key_columns[0])]])))
    return MetricsTable(rows, campaign_ids)


def _filled(lines: Iterator[list[str]]) -> Iterator[list[str]]:
    """The rows that are not blank."""
    return (cells for cells in lines if any(cell.strip() for cell in cells))


def quoted(names: Sequence[str]) -> str:
    """`'a'`, `'a' and 'b'`, `'a', 'b' and 'c'`."""
    marked = [f"'{name}'" for name in names]
    return marked[0] if len(marked) == 1 else f"{', '.join(marked[:-1])} and {marked[-1]}"


def asked(response: requests.Response, params: Mapping[str, Any]) -> str:
    """`GET /api/campaigns/metrics (3 campaignIds, startDateTime=2024-01-01)`: the request without its ids."""
    path = urlsplit(response.request.url or "").path
    ids = len(params.get("campaignId") or [])
    others = ", ".join(f"{name}={value}" for name, value in params.items() if name != "campaignId")
    return (
        f"{response.request.method} {path} ({ids} campaignId{'' if ids == 1 else 's'}{', ' if others else ''}{others})"
    )


def bad_answer(request: str, what: str, expected: str) -> AirbyteTracedException:
    message = (
        f"Iterable answered {request} with HTTP 200 and {what}, instead of {expected}. The stream stops here, so "
        "that its state does not move past campaigns it did not read; retry the sync later."
    )
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.system_error)
