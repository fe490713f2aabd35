"""Rewrite the acceptance fixtures that are derived from the connector and the emulator's default data set.

    .venv/bin/python -m integration_tests.regenerate_acceptance_fixtures

Starts the emulator on sample_config.json's URL, runs `discover` and writes `configured_catalog.json` (every
stream, incremental on its cursor where it has one) and `abnormal_state.json` (every cursor far in the future),
then reads that catalog and writes `expected_records.jsonl`. Run it after a change to the streams, their records
or the data set, and review the diff: `test_acceptance_fixtures.py` fails until the files match a fresh read.
The configs (`sample_config.json`, `invalid_config.json`) are written by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from integration_tests.acceptance import (
    ABNORMAL_STATE,
    CONFIGURED_CATALOG,
    EXPECTED_RECORDS,
    SAMPLE_CONFIG,
    acceptance_emulator,
    configured_catalog,
    discover_streams,
    expected_record_lines,
    load_json,
    read_catalog,
)

# 2100-01-01T00:00:00Z in each cursor's own format: exports and users keep RFC 3339 states to the second, the REST
# objects (filtered client-side) to the millisecond. A cursor missing here stops the script: pick its format first.
FUTURE_CURSOR_VALUES = {
    "createdAt": "2100-01-01T00:00:00Z",
    "profileUpdatedAt": "2100-01-01T00:00:00Z",
    "updatedAt": "2100-01-01T00:00:00.000Z",
    "lastModified": "2100-01-01T00:00:00.000Z",
    "synced_at": "2100-01-01T00:00:00Z",
    "date": "2100-01-01",
}


def abnormal_state(catalog: dict[str, Any]) -> list[dict[str, Any]]:
    """One STREAM state per incremental stream, its cursor at FUTURE_CURSOR_VALUES.

    Streams read per partition (templates, catalog_items) take this flat form as the state of every partition.
    """
    states = []
    for configured in catalog["streams"]:
        if configured["sync_mode"] != "incremental":
            continue
        (cursor,) = configured["cursor_field"]
        states.append(
            {
                "type": "STREAM",
                "stream": {
                    "stream_descriptor": {"name": configured["stream"]["name"]},
                    "stream_state": {cursor: FUTURE_CURSOR_VALUES[cursor]},
                },
            }
        )
    return states


def write_json(path: Path, content: Any) -> None:
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    config = load_json(SAMPLE_CONFIG)
    with acceptance_emulator():
        catalog = configured_catalog(discover_streams(config))
        output = read_catalog(config, catalog)
    write_json(CONFIGURED_CATALOG, catalog)
    write_json(ABNORMAL_STATE, abnormal_state(catalog))
    stream_order = [configured["stream"]["name"] for configured in catalog["streams"]]
    lines = expected_record_lines(output, stream_order)
    EXPECTED_RECORDS.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"{len(catalog['streams'])} streams, {len(lines)} expected records")


if __name__ == "__main__":
    main()
