"""The CDK's standard connector tests (airbyte_cdk.test.standard_tests) against the emulator.

Scenarios come from acceptance-test-config.yml (spec, connection, discovery, basic_read, full_refresh); its
configs name the emulator's fixed URL, served for the session by the `acceptance_emulator` fixture. Each suite
runs `spec`, `check` with the good and the wrong key, `discover`, a full-refresh `read` of every discovered stream
in which every stream must return records matching its schema, and (added here, as Airbyte's Connector Acceptance
Tests do with `expect_records`) the same read compared with integration_tests/expected_records.jsonl.

- TestSourceIterable: the connector as shipped (`SourceIterable`, the console script's class).
- TestManifestOnly: `manifest.yaml` alone in the CDK's `ConcurrentDeclarativeSource`, as Airbyte's
  manifest-only runtime would load it (components imported from the installed `source_iterable` package).
  Its `check` is the manifest's `CheckStream` on channels, which fails on a wrong key (channels' 401 is never
  skipped); the export-permission probe exists only in SourceIterable.check (`definitions.check_probes`).
"""

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml
from airbyte_cdk.models import ConfiguredAirbyteCatalog, ConfiguredAirbyteStream, DestinationSyncMode, SyncMode
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import DeclarativeSourceTestSuite, SourceTestSuiteBase
from airbyte_cdk.test.standard_tests._job_runner import IConnector, run_test_job
from airbyte_cdk.test.standard_tests.docker_base import get_discovered_streams, get_read_streams, skip_unless_runs
from boltons.typeutils import classproperty

from integration_tests.acceptance import (
    ACCEPTANCE_TEST_CONFIG,
    CONNECTOR_ROOT,
    READ_TIME_FIELD,
    SAMPLE_CONFIG,
    discover_streams,
    load_json,
)
from source_iterable.source import SourceIterable

pytestmark = pytest.mark.usefixtures("acceptance_emulator")


def scenario_config(suite: type[SourceTestSuiteBase], scenario: ConnectorTestScenario | None) -> dict[str, Any]:
    if scenario is None:
        return {}
    return scenario.get_config_dict(connector_root=suite.get_connector_root_dir(), empty_if_missing=True)


def acceptance_tests() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACCEPTANCE_TEST_CONFIG.read_text(encoding="utf-8"))
    return loaded


def expected_records_path(scenario: ConnectorTestScenario) -> str | None:
    """The `expect_records` path of the config's `basic_read` entry, if it has one."""
    for entry in acceptance_tests()["acceptance_tests"]["basic_read"]["tests"]:
        if str(scenario.config_path) == entry["config_path"] and "expect_records" in entry:
            path: str = entry["expect_records"]["path"]
            return path
    return None


def canonical(stream: str, data: dict[str, Any]) -> tuple[str, str]:
    """A record as compared: without READ_TIME_FIELD (when the metrics were read, the config's `ignored_fields`)."""
    return stream, json.dumps({key: value for key, value in data.items() if key != READ_TIME_FIELD}, sort_keys=True)


class StandardSuite(SourceTestSuiteBase):
    @classproperty
    def acceptance_test_config(self) -> Any:
        """acceptance-test-config.yml without `expect_records` and `ignored_fields`: Airbyte's Connector Acceptance
        Tests need them at high strictness (they compare a read of every stream with the file); the CDK's standard
        tests compare no records and refuse the keys. `test_basic_read_returns_exactly_the_expected_records` runs that comparison here."""
        tests = acceptance_tests()
        for entry in tests["acceptance_tests"]["basic_read"]["tests"]:
            entry.pop("expect_records", None)
            entry.pop("ignored_fields", None)
        return tests

    def test_config_matches_spec(self, scenario: ConnectorTestScenario) -> None:
        """The suite's job runner passes a scenario's `configured_catalog_path` to every verb but discover and check,
        so `spec --catalog …` fails to parse (airbyte-cdk 7.39.1) for a config that is also read; spec takes none."""
        super().test_config_matches_spec(scenario.model_copy(update={"configured_catalog_path": None}))

    def test_basic_read_returns_exactly_the_expected_records(self, scenario: ConnectorTestScenario) -> None:
        """The read of `test_basic_read` (full refresh, every discovered stream) returns, stream by stream, exactly
        the records of the config's `expect_records` file, in any order: as the Connector Acceptance Tests'
        TestBasicRead, without the extra records they tolerate."""
        skip_unless_runs(scenario, "read")
        path = expected_records_path(scenario)
        if path is None:
            pytest.skip(f"the basic_read entry of '{scenario.id}' sets no expect_records")
        discovered = run_test_job(
            self.create_connector(scenario), "discover", connector_root=CONNECTOR_ROOT, test_scenario=scenario
        )
        streams = get_read_streams(scenario, get_discovered_streams(discovered, "source-iterable"), CONNECTOR_ROOT)
        catalog = ConfiguredAirbyteCatalog(
            streams=[
                ConfiguredAirbyteStream(
                    stream=stream, sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.append
                )
                for stream in streams
            ]
        )
        result = run_test_job(
            self.create_connector(scenario),
            "read",
            connector_root=CONNECTOR_ROOT,
            test_scenario=scenario.with_default_success(),
            catalog=catalog,
        )
        records = [message.record for message in result.records_iterator if message.record is not None]
        read = Counter(canonical(record.stream, record.data) for record in records)
        lines = (CONNECTOR_ROOT / path).read_text(encoding="utf-8").splitlines()
        expected = Counter(canonical(line["stream"], line["data"]) for line in map(json.loads, lines))
        assert read == expected
        assert {stream for stream, _ in read} == {stream.name for stream in streams}


class TestSourceIterable(StandardSuite):
    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> IConnector:
        """The suite would build the class without arguments; the CDK needs the config at construction."""
        return SourceIterable(config=scenario_config(cls, scenario) or None)


class TestManifestOnly(StandardSuite, DeclarativeSourceTestSuite):
    pass


def additional_properties_not_true(schema: Mapping[str, Any], path: str = "") -> Iterator[str]:
    """The paths of the (sub)schemas whose `additionalProperties` is set to anything but `true`."""
    if "additionalProperties" in schema and schema["additionalProperties"] is not True:
        yield path or "/"
    for name, child in (schema.get("properties") or {}).items():
        yield from additional_properties_not_true(child, f"{path}/{name}")
    if isinstance(schema.get("items"), Mapping):
        yield from additional_properties_not_true(schema["items"], f"{path}[]")
    for keyword in ("anyOf", "oneOf", "allOf"):
        for index, child in enumerate(schema.get(keyword) or []):
            yield from additional_properties_not_true(child, f"{path}/{keyword}[{index}]")


@pytest.mark.parametrize("project_type", ["email", "userId", "hybrid"])
def test_every_discovered_schema_sets_additional_properties_only_to_true(project_type: str) -> None:
    """Airbyte's acceptance tests (TestDiscovery.test_additional_properties_is_true): where a schema sets
    `additionalProperties` it must be `true`, or a destination would drop fields a later version adds."""
    config = {**load_json(SAMPLE_CONFIG), "project_type": project_type}

    offenders = [
        f"{stream.name}{path}"
        for stream in discover_streams(config)
        for path in additional_properties_not_true(stream.json_schema)
    ]

    assert offenders == []
