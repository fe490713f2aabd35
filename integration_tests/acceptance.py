"""The acceptance-test fixtures and the emulator they point at.

`acceptance-test-config.yml` names files under `integration_tests/`; their configs point at the emulator on the
fixed loopback URL of `sample_config.json`. `acceptance_emulator()` serves the default data set there, so the CDK's
standard tests, the fixture tests and `regenerate_acceptance_fixtures.py` all read the same account.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.models import (
    AirbyteStateMessage,
    AirbyteStream,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
)
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, discover, read

from integration_tests.emulator import Dataset, Emulator
from source_iterable.source import SourceIterable

CONNECTOR_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = CONNECTOR_ROOT / "integration_tests"
SAMPLE_CONFIG = FIXTURES / "sample_config.json"
INVALID_CONFIG = FIXTURES / "invalid_config.json"
CONFIGURED_CATALOG = FIXTURES / "configured_catalog.json"
ABNORMAL_STATE = FIXTURES / "abnormal_state.json"
EXPECTED_RECORDS = FIXTURES / "expected_records.jsonl"
ACCEPTANCE_TEST_CONFIG = CONNECTOR_ROOT / "acceptance-test-config.yml"

DATASET_SEED = 7
# expected_records.jsonl carries this emitted_at (2026-01-01T00:00:00Z) on every line, so regenerating the file
# from an unchanged data set leaves it byte-identical. emitted_at is never compared.
EMITTED_AT = 1767225600000
# The metrics streams' cursor: the moment of the read that listed the campaigns, different on every read. Like
# emitted_at it is not compared: it is left out of expected_records.jsonl and of the fresh reads compared with it.
READ_TIME_FIELD = "synced_at"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@contextmanager
def acceptance_emulator() -> Iterator[Emulator]:
    """The emulator with the default data set (seed 7) on the port of sample_config.json's `api_base_url`.

    Its own rate limits are off because one test session reads the account many times; each read still paces
    itself with the manifest's api_budget, as against Iterable.
    """
    port = urlsplit(load_json(SAMPLE_CONFIG)["api_base_url"]).port
    with Emulator(Dataset(seed=DATASET_SEED), rate_limits={}, port=port) as emulator:
        yield emulator


def discover_streams(config: Mapping[str, Any]) -> list[AirbyteStream]:
    output = discover(SourceIterable(config=config), config)
    output.raise_if_errors()
    catalog = output.catalog.catalog
    assert catalog is not None, "discover emitted no catalog"
    return list(catalog.streams)


def configured_catalog(streams: Iterable[AirbyteStream]) -> dict[str, Any]:
    """Every stream, incremental on its own cursor where it has one, else full refresh; schemas left out.

    The connector reads only names, sync modes and cursors from a configured catalog; the acceptance tests
    take each stream's schema from `discover`.
    """
    configured = []
    for stream in streams:
        incremental = "incremental" in [mode.value for mode in stream.supported_sync_modes]
        configured.append(
            {
                "stream": {
                    "name": stream.name,
                    "json_schema": {},
                    "supported_sync_modes": [mode.value for mode in stream.supported_sync_modes],
                    **(
                        {"source_defined_cursor": True, "default_cursor_field": stream.default_cursor_field}
                        if incremental
                        else {}
                    ),
                    "source_defined_primary_key": stream.source_defined_primary_key,
                },
                "sync_mode": "incremental" if incremental else "full_refresh",
                **({"cursor_field": stream.default_cursor_field} if incremental else {}),
                "destination_sync_mode": "append_dedup",
                "primary_key": stream.source_defined_primary_key,
            }
        )
    return {"streams": configured}


def read_catalog(
    config: Mapping[str, Any], catalog: Mapping[str, Any], state: list[AirbyteStateMessage] | None = None
) -> EntrypointOutput:
    """One in-process `read`, the connector built with its config, catalog and state as the console script does."""
    configured: ConfiguredAirbyteCatalog = ConfiguredAirbyteCatalogSerializer.load(dict(catalog))
    output = read(SourceIterable(catalog=configured, config=config, state=state), config, configured, state)
    output.raise_if_errors()
    return output


def expected_record_lines(output: EntrypointOutput, stream_order: list[str]) -> list[str]:
    """Airbyte's expected-records lines: streams in catalog order, each stream's records in canonical JSON order
    (records of one stream arrive in a different order from run to run: partitions are read concurrently), without
    READ_TIME_FIELD."""
    rank = {name: index for index, name in enumerate(stream_order)}
    records = [message.record for message in output.records if message.record is not None]
    canonical = sorted(
        (
            rank[record.stream],
            record.stream,
            json.dumps({key: value for key, value in record.data.items() if key != READ_TIME_FIELD}, sort_keys=True),
        )
        for record in records
    )
    return [
        f'{{"stream": {json.dumps(stream)}, "data": {data}, "emitted_at": {EMITTED_AT}}}'
        for _, stream, data in canonical
    ]
