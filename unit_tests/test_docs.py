"""docs/iterable.md's streams table describes exactly the manifest's streams: names, keys and cursors cannot drift."""

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from unit_tests.manifest_streams import stream_definitions as manifest_streams

DOCS = Path(__file__).resolve().parent.parent / "docs" / "iterable.md"
NO_CURSOR = "—"


@cache
def docs_stream_rows() -> dict[str, dict[str, str]]:
    """Rows of the table under '## Supported streams', by stream name, cells keyed by the header."""
    section = DOCS.read_text(encoding="utf-8").split("## Supported streams", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]
    rows = [dict(zip(header, row, strict=True)) for row in cells]
    return {row["Stream"].strip("`"): row for row in rows}


def backticked(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


def primary_key_fields(stream: Mapping[str, Any]) -> list[str]:
    key = stream.get("primary_key")
    if isinstance(key, str):
        return [key]
    return [field for part in key or [] for field in ([part] if isinstance(part, str) else part)]


def cursor_field(stream: Mapping[str, Any]) -> str:
    incremental = stream.get("incremental_sync") or {}
    return f"`{incremental['cursor_field']}`" if "cursor_field" in incremental else NO_CURSOR


def test_every_manifest_stream_is_in_the_docs_streams_table() -> None:
    assert sorted(set(manifest_streams()) - set(docs_stream_rows())) == []


@pytest.mark.parametrize("name", sorted(docs_stream_rows()))
def test_docs_streams_table_row_is_a_manifest_stream(name: str) -> None:
    assert name in manifest_streams()


def manifest_variants(name: str) -> list[Mapping[str, Any]]:
    if name not in manifest_streams():
        pytest.skip(f"{name} is not in the manifest (test_docs_streams_table_row_is_a_manifest_stream fails for it)")
    return manifest_streams()[name]


@pytest.mark.parametrize("name", sorted(docs_stream_rows()))
def test_docs_primary_key_names_the_manifest_primary_key_fields(name: str) -> None:
    documented = backticked(docs_stream_rows()[name]["Primary key"])
    fields = [field for variant in manifest_variants(name) for field in primary_key_fields(variant)]
    assert [field for field in fields if field not in documented] == []


@pytest.mark.parametrize("name", sorted(docs_stream_rows()))
def test_docs_cursor_and_sync_modes_match_the_manifest(name: str) -> None:
    (cursor,) = {cursor_field(variant) for variant in manifest_variants(name)}
    modes = "Full refresh" if cursor == NO_CURSOR else "Full refresh, Incremental"
    row = docs_stream_rows()[name]
    assert (row["Cursor"], row["Sync modes"]) == (cursor, modes)
