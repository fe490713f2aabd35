"""End to end: the installed console script `source-iterable` against the local emulator, REST streams only.

Each command runs in a fresh temporary directory (so no stray manifest.yaml in the cwd can be picked up) and the
records are compared with the emulator's data set exactly, in Iterable's field names.
"""

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from integration_tests.emulator import Dataset, Emulator
from integration_tests.emulator.dataset import forget_hash, instant
from integration_tests.emulator.template_content import CONTENT_MEDIA, has_default_content
from source_iterable.components.metric_row import MetricRowTyping
from source_iterable.source import SourceIterable

# Template content streams and the messageMedium of the templates each reads.
TEMPLATE_CONTENT_MEDIA = {
    "email_templates": "Email",
    "push_templates": "Push",
    "sms_templates": "SMS",
    "in_app_templates": "InApp",
    "embedded_templates": "Embedded",
}
REST_STREAMS = [
    "campaigns",
    "campaigns_metrics",
    "experiments_metrics",
    "channels",
    "lists",
    "list_users",
    "message_types",
    "metadata",
    "templates",
    "catalogs",
    "catalog_items",
    "journeys",
    "snippets",
    "webhooks",
    "user_fields",
    "forgotten_users",
    "catalog_field_mappings",
    *TEMPLATE_CONTENT_MEDIA,
]
CONSOLE_SCRIPT = shutil.which("source-iterable", path=str(Path(sys.executable).parent)) or "source-iterable"


def run(tmp_path: Path, *args: str, config: Mapping[str, Any], catalog: Any = None) -> list[dict[str, Any]]:
    """Run one protocol command from `tmp_path`; return its stdout messages (stdout must be JSON lines only)."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    command = [CONSOLE_SCRIPT, *args]
    if args[0] != "spec":
        command += ["--config", "config.json"]
    if catalog is not None:
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        command += ["--catalog", "catalog.json"]
    finished = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    messages = [json.loads(line) for line in finished.stdout.splitlines() if line.strip()]
    assert finished.returncode == 0, [m for m in messages if m["type"] == "TRACE"] or finished.stderr[-2000:]
    return messages


def full_refresh_catalog(streams: list[str]) -> dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {
                    "name": name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh"],
                },
                "sync_mode": "full_refresh",
                "destination_sync_mode": "overwrite",
            }
            for name in streams
        ]
    }


def without_top_level_nulls(record: Mapping[str, Any]) -> dict[str, Any]:
    """The Airbyte serializer leaves out top-level keys whose value is null."""
    return {key: value for key, value in record.items() if value is not None}


# Each REST stream's timestamp fields (Iterable's names), emitted as RFC 3339 UTC whatever form the emulator sends.
TIMESTAMP_FIELDS = {
    "campaigns": ("createdAt", "updatedAt", "startAt", "endedAt"),
    "lists": ("createdAt",),
    "message_types": ("createdAt", "updatedAt"),
    "templates": ("createdAt", "updatedAt"),
    "catalog_items": ("lastModified",),
    "journeys": ("createdAt", "updatedAt"),
    "snippets": ("createdAt", "updatedAt"),
    "experiments_metrics": ("creation_date", "last_modified"),
}
# The metrics streams' cursor, the moment of the read: the same on every record of a read, not in the data set.
READ_TIME = {"campaigns_metrics": "synced_at", "experiments_metrics": "synced_at"}


def rfc3339(value: int | str) -> str:
    """`2025-03-04T05:06:07Z`, or `…07.25Z` with the milliseconds (trailing zeros left out) when there are some."""
    moment = instant(value)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}".rstrip("0") + "Z" if millis else f"{text}Z"


def with_rfc3339_times(stream: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fields = TIMESTAMP_FIELDS.get(stream, ())
    return [{k: rfc3339(v) if k in fields and v is not None else v for k, v in r.items()} for r in records]


def expected_records(dataset: Dataset) -> dict[str, list[dict[str, Any]]]:
    """What each REST stream must emit for the emulator's data set."""
    expected = {name: with_rfc3339_times(name, records) for name, records in _records_as_served(dataset).items()}
    for name, medium in TEMPLATE_CONTENT_MEDIA.items():
        expected[name] = [_template_content(dataset, template) for template in dataset.templates_with_content(medium)]
    return expected


def _template_content(dataset: Dataset, template: Mapping[str, Any]) -> dict[str, Any]:
    """One template's default-locale content as served, with the list's updatedAt, every timestamp RFC 3339."""
    body = dataset.template_content(template["templateId"], None)
    assert body is not None
    record: dict[str, Any] = {**body, "updatedAt": rfc3339(template["updatedAt"])}
    if "createdAt" in record:
        record["createdAt"] = rfc3339(record["createdAt"])
    if "metadata" in record:
        metadata = record["metadata"]
        record["metadata"] = {
            **metadata,
            "createdAt": rfc3339(metadata["createdAt"]),
            "updatedAt": rfc3339(metadata["updatedAt"]),
        }
    if "expirationDateTime" in record:  # `YYYY-MM-DD HH:MM:SS`, UTC
        record["expirationDateTime"] = record["expirationDateTime"].replace(" ", "T") + "Z"
    return record


def _records_as_served(dataset: Dataset) -> dict[str, list[dict[str, Any]]]:
    """Each REST stream's records as the emulator serves them."""
    schemas = SourceIterable().resolved_manifest["schemas"]
    metrics = []
    for row in dataset.campaign_metrics.values():
        typed = dict(row)
        MetricRowTyping(schemas["campaigns_metrics"]["properties"]).transform(typed)
        metrics.append(typed)
    experiments = []
    for experiment in dataset.experiments:
        for row in dataset.experiment_metrics_rows(experiment, None, None):
            typed = dict(row)
            MetricRowTyping(schemas["experiments_metrics"]["properties"], camel_case=True).transform(typed)
            experiments.append(typed)
    return {
        "campaigns": list(dataset.campaigns),
        "campaigns_metrics": metrics,
        "experiments_metrics": experiments,
        "channels": list(dataset.channels),
        "lists": list(dataset.lists),
        "list_users": [
            {"listId": item["id"], "email": member}
            for item in dataset.lists
            for member in dataset.list_member_ids(item["id"], prefer_user_id=False)
        ],
        "message_types": list(dataset.message_types),
        "metadata": [
            {"table": table, "key": key, "value": value}
            for table, values in dataset.metadata_tables.items()
            for key, value in values.items()
        ],
        "templates": list(dataset.templates),
        "catalogs": list(dataset.catalogs),
        "catalog_items": [item for items in dataset.catalog_items.values() for item in items],
        "journeys": list(dataset.journeys),
        "snippets": list(dataset.snippets),
        "webhooks": list(dataset.webhooks),
        "user_fields": [{"name": name, "type": kind} for name, kind in dataset.user_fields.items()],
        "forgotten_users": [
            *({"hash": forget_hash(email), "hashedField": "email"} for email in dataset.forgotten_emails),
            *({"hash": forget_hash(user_id), "hashedField": "userId"} for user_id in dataset.forgotten_user_ids),
        ],
        "catalog_field_mappings": [
            {"catalogName": catalog, "fieldName": field, "fieldType": kind, "defined": kind is not None}
            for catalog, mappings in dataset.catalog_field_mappings.items()
            for field, kind in [*mappings["definedMappings"].items(), *((f, None) for f in mappings["undefinedFields"])]
        ],
    }


def canonical(records: list[Mapping[str, Any]]) -> list[str]:
    return sorted(json.dumps(without_top_level_nulls(record), sort_keys=True) for record in records)


@pytest.fixture
def rest_emulator() -> Any:
    """The emulator with Iterable's real rate limits: the connector's budgets must keep a sync under them."""
    with Emulator(Dataset(seed=7)) as emu:
        yield emu


@dataclass(frozen=True)
class RestRead:
    """One read of every REST stream, at Iterable's real rate limits, that several tests look at."""

    dataset: Dataset
    messages: list[dict[str, Any]]
    statuses: list[tuple[str, int]]


@pytest.fixture(scope="module")
def rest_read(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestRead]:
    """Read every REST stream once for the module (a read costs seconds): the tests only look at its output."""
    with Emulator(Dataset(seed=7)) as emu:
        config = {"api_key": emu.api_key, "start_date": "2025-01-01", "api_base_url": emu.url}
        messages = run(
            tmp_path_factory.mktemp("rest-read"), "read", config=config, catalog=full_refresh_catalog(REST_STREAMS)
        )
        yield RestRead(emu.dataset, messages, [(request.path, request.status) for request in emu.requests])


@pytest.fixture(scope="module")
def discovered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """The catalog `discover` gives for the emulator's project, by stream name, computed once for the module."""
    with Emulator(Dataset(seed=7), rate_limits={}) as emu:
        config = {"api_key": emu.api_key, "start_date": "2025-01-01", "api_base_url": emu.url}
        messages = run(tmp_path_factory.mktemp("discover"), "discover", config=config)
        yield {stream["name"]: stream for stream in messages[-1]["catalog"]["streams"]}


def test_spec_lists_every_config_field(tmp_path: Path) -> None:
    messages = run(tmp_path, "spec", config={})

    properties = messages[-1]["spec"]["connectionSpecification"]["properties"]
    assert {
        "api_key",
        "start_date",
        "region",
        "lookback_window",
        "window_days",
        "project_type",
        "end_date",
        "api_base_url",
    } <= set(properties)


def test_check_with_server_side_key_succeeds(
    tmp_path: Path, emulator: Emulator, emulator_config: dict[str, Any]
) -> None:
    messages = run(tmp_path, "check", config=emulator_config)

    assert [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"] == [{"status": "SUCCEEDED"}]


def test_check_with_read_only_key_fails_naming_the_key_type(
    tmp_path: Path, emulator: Emulator, emulator_config: dict[str, Any]
) -> None:
    messages = run(tmp_path, "check", config={**emulator_config, "api_key": emulator.read_only_key})

    status = [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"][-1]
    assert status["status"] == "FAILED"
    assert "it is not a Server-side key" in status["message"]


def test_check_with_wrong_key_fails_naming_the_causes(
    tmp_path: Path, emulator: Emulator, emulator_config: dict[str, Any]
) -> None:
    messages = run(
        tmp_path,
        "check",
        config={**emulator_config, "api_key": "not-a-key-of-this-project"},
    )

    status = [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"][-1]
    assert status["status"] == "FAILED"
    assert status["message"].startswith("Iterable rejected the API key (BadApiKey")
    assert "this connection uses the US data center" in status["message"]


def test_discover_lists_every_rest_stream_with_its_primary_key(discovered: dict[str, dict[str, Any]]) -> None:
    streams = discovered
    assert set(REST_STREAMS) <= set(streams)
    assert streams["list_users"]["source_defined_primary_key"] == [
        ["listId"],
        ["email"],
    ]
    assert streams["metadata"]["source_defined_primary_key"] == [["table"], ["key"]]
    assert streams["campaigns"]["supported_sync_modes"] == [
        "full_refresh",
        "incremental",
    ]


def test_read_of_every_rest_stream_equals_the_emulator_data_set(rest_read: RestRead) -> None:
    emitted: dict[str, list[dict[str, Any]]] = {name: [] for name in REST_STREAMS}
    for message in rest_read.messages:
        if message["type"] == "RECORD":
            emitted[message["record"]["stream"]].append(message["record"]["data"])
    emitted["metadata"] = [{k: r[k] for k in ("table", "key", "value")} for r in emitted["metadata"]]
    for name, field in READ_TIME.items():
        assert len({record.pop(field) for record in emitted[name]}) == 1, name
    expected = expected_records(rest_read.dataset)
    for name in REST_STREAMS:
        assert canonical(emitted[name]) == canonical(expected[name]), name


def test_a_read_of_every_rest_stream_at_iterables_rate_limits_gets_no_error_status(rest_read: RestRead) -> None:
    """Only the templates without content in the default locale answer an error: the definition's 404."""
    without_content = [
        (f"/api/templates/{path}/get", 404)
        for path, medium in CONTENT_MEDIA.items()
        for template in (*rest_read.dataset.templates, *rest_read.dataset.embedded_templates)
        if template["messageMedium"] == medium and not has_default_content(template["templateId"])
    ]
    assert len(without_content) == len(TEMPLATE_CONTENT_MEDIA)
    assert sorted(answer for answer in rest_read.statuses if answer[1] >= 400) == sorted(without_content)


def test_read_records_match_their_discovered_schema_and_declare_every_field(
    rest_read: RestRead, discovered: dict[str, dict[str, Any]]
) -> None:
    schemas = {name: stream["json_schema"] for name, stream in discovered.items()}

    for message in rest_read.messages:
        if message["type"] == "RECORD":
            name, data = message["record"]["stream"], message["record"]["data"]
            jsonschema.validate(data, schemas[name])
            assert set(data) <= set(schemas[name]["properties"]), (
                name,
                set(data) - set(schemas[name]["properties"]),
            )


def test_read_of_list_users_in_a_user_id_project_emits_user_ids(tmp_path: Path, rest_emulator: Emulator) -> None:
    config = {
        "api_key": rest_emulator.api_key,
        "start_date": "2025-01-01",
        "api_base_url": rest_emulator.url,
        "project_type": "userId",
    }

    messages = run(tmp_path, "read", config=config, catalog=full_refresh_catalog(["list_users"]))

    dataset = rest_emulator.dataset
    expected = [
        {"listId": item["id"], "userId": member}
        for item in dataset.lists
        for member in dataset.list_member_ids(item["id"], prefer_user_id=True)
    ]
    assert canonical([m["record"]["data"] for m in messages if m["type"] == "RECORD"]) == canonical(expected)


@pytest.mark.parametrize("template_times", ["date-time", "epoch_ms"])
def test_read_of_templates_and_their_content_emits_rfc3339_times_from_either_form_iterable_sends(
    tmp_path: Path, template_times: str
) -> None:
    streams = ["templates", "push_templates", "email_templates"]
    with Emulator(Dataset(seed=7, template_times=template_times), rate_limits={}) as emulator:
        config = {"api_key": emulator.api_key, "start_date": "2025-01-01", "api_base_url": emulator.url}
        messages = run(tmp_path, "read", config=config, catalog=full_refresh_catalog(streams))

    expected = expected_records(Dataset(seed=7))
    for stream in streams:
        emitted = [m["record"]["data"] for m in messages if m["type"] == "RECORD" and m["record"]["stream"] == stream]
        assert canonical(emitted) == canonical(expected[stream]), stream
        assert {type(record["updatedAt"]) for record in emitted} == {str}
