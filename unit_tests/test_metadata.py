"""metadata.yaml is a valid Airbyte registry entry and agrees with the package, the image and the manifest."""

import copy
import json
import re
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile
from jsonschema import Draft7Validator, FormatChecker

from source_iterable.source import SourceIterable, load_manifest

ROOT = Path(__file__).resolve().parent.parent
METADATA_PATH = ROOT / "metadata.yaml"
SCHEMA_PATH = Path(__file__).parent / "resource" / "metadata" / "ConnectorMetadataDefinitionV0.schema.json"

# The longest stretch without any message: a full 61 s slot of the 4-per-minute export throttle, then the wait for
# the first byte of an export, bounded by the longest read timeout of the manifest's requesters (the retriever logs
# when a window times out). Without any read timeout, budget the minutes Iterable can take: 15.
EXPORT_THROTTLE_WAIT_S = 61
FIRST_BYTE_WITHOUT_TIMEOUT_S = 15 * 60


def metadata() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(METADATA_PATH.read_text(encoding="utf-8"))
    return loaded


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = Draft7Validator(schema, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def dockerfile_label(name: str) -> str:
    match = re.search(rf"{re.escape(name)}=(\S+)", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    assert match, f"Dockerfile has no {name} label"
    return match.group(1)


def test_metadata_validates_against_airbyte_connector_metadata_schema() -> None:
    assert schema_errors(metadata()) == []


def _without_definition_id(data: dict[str, Any]) -> None:
    del data["definitionId"]


def _with_unknown_key(data: dict[str, Any]) -> None:
    data["dockerImageTags"] = "0.1.0"


def _with_bad_uuid(data: dict[str, Any]) -> None:
    data["definitionId"] = "iterable"


def _with_unknown_subtype(data: dict[str, Any]) -> None:
    data["connectorSubtype"] = "rest"


def _with_unknown_test_suite(data: dict[str, Any]) -> None:
    data["connectorTestSuitesOptions"] = [{"suite": "smoke"}]


@pytest.mark.parametrize(
    "spoil, expected_error",
    [
        pytest.param(_without_definition_id, "data: 'definitionId' is a required property", id="missing-definition-id"),
        pytest.param(
            _with_unknown_key,
            "data: Additional properties are not allowed ('dockerImageTags' was unexpected)",
            id="unknown-key",
        ),
        pytest.param(_with_bad_uuid, "data/definitionId: 'iterable' is not a 'uuid'", id="definition-id-not-uuid"),
        pytest.param(
            _with_unknown_subtype,
            "data/connectorSubtype: 'rest' is not one of "
            "['api', 'database', 'datalake', 'file', 'custom', 'message_queue', 'unknown', 'vectorstore']",
            id="unknown-subtype",
        ),
        pytest.param(
            _with_unknown_test_suite,
            "data/connectorTestSuitesOptions/0/suite: 'smoke' is not one of "
            "['unitTests', 'integrationTests', 'acceptanceTests', 'liveTests']",
            id="unknown-test-suite",
        ),
    ],
)
def test_given_a_spoiled_metadata_when_validated_then_the_schema_names_the_fault(
    spoil: Callable[[dict[str, Any]], None], expected_error: str
) -> None:
    document = copy.deepcopy(metadata())
    spoil(document["data"])
    assert schema_errors(document) == [expected_error]


def test_metadata_loads_with_the_cdk_metadata_model_as_a_python_connector() -> None:
    loaded = MetadataFile.from_file(METADATA_PATH)
    assert loaded.data.language is ConnectorLanguage.PYTHON
    assert loaded.data.connectorBuildOptions is not None
    assert loaded.data.connectorBuildOptions.baseImage == metadata()["data"]["connectorBuildOptions"]["baseImage"]


def test_one_version_everywhere_pyproject_metadata_and_dockerfile_label() -> None:
    pyproject_version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert (metadata()["data"]["dockerImageTag"], dockerfile_label("io.airbyte.version")) == (
        pyproject_version,
        pyproject_version,
    )


def test_dockerfile_name_label_is_the_docker_repository() -> None:
    assert dockerfile_label("io.airbyte.name") == metadata()["data"]["dockerRepository"]


def test_base_image_is_airbytes_python_connector_base_pinned_by_digest() -> None:
    base_image = metadata()["data"]["connectorBuildOptions"]["baseImage"]
    assert re.fullmatch(r"docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}", base_image)


def test_allowed_hosts_are_exactly_the_hosts_of_the_spec_regions(tmp_path: Path) -> None:
    regions = load_manifest()["spec"]["connection_specification"]["properties"]["region"]["enum"]
    hosts = set()
    for region in regions:
        config = {"api_key": "key", "start_date": "2024-01-01T00:00:00Z", "region": region}
        api_base = SourceIterable(config=config).configure(config, temp_dir=str(tmp_path))["api_base"]
        hosts.add(re.sub(r"^https://", "", api_base))
    assert sorted(metadata()["data"]["allowedHosts"]["hosts"]) == sorted(hosts)


def read_timeouts(component: Any) -> list[int]:
    if isinstance(component, dict):
        own = [component["read_timeout_in_seconds"]] if "read_timeout_in_seconds" in component else []
        return own + [timeout for value in component.values() for timeout in read_timeouts(value)]
    if isinstance(component, list):
        return [timeout for value in component for timeout in read_timeouts(value)]
    return []


def test_max_seconds_between_messages_outlasts_the_silence_of_one_export_request() -> None:
    first_byte_s = max(read_timeouts(dict(SourceIterable().resolved_manifest)), default=FIRST_BYTE_WITHOUT_TIMEOUT_S)
    assert metadata()["data"]["maxSecondsBetweenMessages"] >= EXPORT_THROTTLE_WAIT_S + first_byte_s


def test_documentation_url_is_the_one_the_spec_shows() -> None:
    assert metadata()["data"]["documentationUrl"] == load_manifest()["spec"]["documentation_url"]


def test_metadata_icon_is_an_svg_file_in_the_repository() -> None:
    root = ElementTree.parse(ROOT / metadata()["data"]["icon"]).getroot()
    assert (root.tag, bool(root.get("viewBox"))) == ("{http://www.w3.org/2000/svg}svg", True)
