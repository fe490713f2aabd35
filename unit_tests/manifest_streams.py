"""The manifest's streams, from the resolved manifest: what tests compare with instead of hard-coded counts."""

from collections.abc import Mapping
from functools import cache
from typing import Any

from source_iterable.source import SourceIterable


@cache
def stream_definitions() -> dict[str, list[Mapping[str, Any]]]:
    """Streams by name; a stream that ConditionalStreams defines once per config (e.g. per project type) has
    one variant per branch."""
    streams: dict[str, list[Mapping[str, Any]]] = {}
    for entry in SourceIterable().resolved_manifest["streams"]:
        for stream in entry["streams"] if entry.get("type") == "ConditionalStreams" else [entry]:
            streams.setdefault(stream["name"], []).append(stream)
    return streams


def incremental_stream_names() -> set[str]:
    """Streams with a cursor (in any variant)."""
    return {name for name, variants in stream_definitions().items() if any(v.get("incremental_sync") for v in variants)}


def export_data_types() -> dict[str, str]:
    """Each stream read through Iterable's export API, with its `dataTypeName` (its `data_type` parameter)."""
    return {
        name: variants[0]["data_type"] for name, variants in stream_definitions().items() if "data_type" in variants[0]
    }
