"""Run the connector the way the platform does (entrypoint), on one stream at a time."""

import json
import tempfile
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, _run_command, read
from airbyte_cdk.test.models.outcome import ExpectedOutcome

from source_iterable import source as source_module
from source_iterable.source import SourceIterable, load_manifest


def read_stream(
    name: str,
    config: Mapping[str, Any],
    sync_mode: SyncMode = SyncMode.full_refresh,
    state: list[AirbyteStateMessage] | None = None,
    expect_failure: bool = False,
    with_rate_budget: bool = True,
    manifest_edit: Callable[[dict[str, Any]], None] | None = None,
) -> EntrypointOutput:
    """`read` of one stream by `SourceIterable`. `with_rate_budget=False` empties the api_budget's policies (the
    budget itself stays: the export retriever needs one), whose per-minute windows would otherwise make a test wait
    for real after a 429 or a sixth attempt on a budgeted endpoint. `manifest_edit` changes the manifest first
    (smaller bounds); the source is then built from the edited manifest."""
    catalog = CatalogBuilder().with_stream(name, sync_mode).build()
    manifest = load_manifest()
    if not with_rate_budget:
        manifest["api_budget"]["policies"] = []
    if manifest_edit is not None:
        manifest_edit(manifest)
    with mock.patch.object(source_module, "load_manifest", return_value=manifest):
        source = SourceIterable(catalog=catalog, config=config, state=state)
    outcome = ExpectedOutcome.EXPECT_EXCEPTION if expect_failure else ExpectedOutcome.EXPECT_SUCCESS
    return read(source, config, catalog, state, expected_outcome=outcome)


def run_check(config: Mapping[str, Any]) -> EntrypointOutput:
    """`check --config`: the CDK test wrapper has no check helper, so this runs the entrypoint command."""
    with tempfile.TemporaryDirectory() as directory:
        config_path = Path(directory) / "config.json"
        config_path.write_text(json.dumps(config))
        return _run_command(
            SourceIterable(config=config),
            ["check", "--config", str(config_path)],
            expected_outcome=ExpectedOutcome.ALLOW_ANY,
        )


def records_of(output: EntrypointOutput) -> list[Mapping[str, Any]]:
    return [message.record.data for message in output.records]


def warnings_of(output: EntrypointOutput) -> list[str]:
    return [message.log.message for message in output.logs if message.log.level.name == "WARN"]


REST_TIMESTAMP_FIELDS = ("createdAt", "updatedAt", "startAt", "endedAt", "lastModified")


def emitted(record: Mapping[str, Any]) -> dict[str, Any]:
    """A REST record as the connector emits it: top-level epoch-ms timestamps (whole seconds in these tests) as
    RFC 3339 UTC strings; everything else as sent."""
    out = dict(record)
    for name in REST_TIMESTAMP_FIELDS:
        if isinstance(out.get(name), int):
            out[name] = datetime.fromtimestamp(out[name] / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out
