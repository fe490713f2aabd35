"""The CDK's standard connector tests (airbyte_cdk.test.standard_tests) against the emulator.

Scenarios come from acceptance-test-config.yml (spec, connection, discovery, basic_read, full_refresh); its
configs name the emulator's fixed URL, served for the session by the `acceptance_emulator` fixture. Each suite
runs `spec`, `check` with the good and the wrong key, `discover`, and a full-refresh `read` of every stream of
integration_tests/configured_catalog.json in which every stream must return records matching its schema.

- TestSourceIterable: the connector as shipped (`SourceIterable`, the console script's class).
- TestManifestOnly: `manifest.yaml` alone in the CDK's `ConcurrentDeclarativeSource`, as Airbyte's
  manifest-only runtime would load it (components imported from the installed `source_iterable` package).
  Its `check` is the manifest's `CheckStream` on channels, which fails on a wrong key (channels' 401 is never
  skipped); the export-permission probe exists only in SourceIterable.check (`definitions.check_probes`).
"""

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests import DeclarativeSourceTestSuite, SourceTestSuiteBase
from airbyte_cdk.test.standard_tests._job_runner import IConnector

from integration_tests.acceptance import SAMPLE_CONFIG, discover_streams, load_json
from source_iterable.source import SourceIterable

pytestmark = pytest.mark.usefixtures("acceptance_emulator")


def scenario_config(suite: type[SourceTestSuiteBase], scenario: ConnectorTestScenario | None) -> dict[str, Any]:
    if scenario is None:
        return {}
    return scenario.get_config_dict(connector_root=suite.get_connector_root_dir(), empty_if_missing=True)


class SpecWithoutCatalog(SourceTestSuiteBase):
    def test_config_matches_spec(self, scenario: ConnectorTestScenario) -> None:
        """The suite's job runner passes a scenario's `configured_catalog_path` to every verb but discover and check,
        so `spec --catalog …` fails to parse (airbyte-cdk 7.39.1) for a config that is also read; spec takes none."""
        super().test_config_matches_spec(scenario.model_copy(update={"configured_catalog_path": None}))


class TestSourceIterable(SpecWithoutCatalog):
    @classmethod
    def create_connector(cls, scenario: ConnectorTestScenario | None) -> IConnector:
        """The suite would build the class without arguments; the CDK needs the config at construction."""
        return SourceIterable(config=scenario_config(cls, scenario) or None)


class TestManifestOnly(SpecWithoutCatalog, DeclarativeSourceTestSuite):
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
