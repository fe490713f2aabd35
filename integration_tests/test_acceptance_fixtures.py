"""The acceptance fixtures under integration_tests/ are complete and match what the connector reads now.

The CDK's standard tests (standard_suite.py) no longer compare records with `expect_records` nor run the
`incremental` section of acceptance-test-config.yml; these tests do both, against the same emulator (the
session's `acceptance_emulator`, on sample_config.json's URL). The standard tests are collected in this file too:
every test of that fixed-port emulator then runs in one pytest-xdist worker (`--dist loadfile`, scripts/test.sh). To refresh the files after an intended change:
`.venv/bin/python -m integration_tests.regenerate_acceptance_fixtures`.
"""

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from airbyte_cdk.models import AirbyteStateMessageSerializer
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput

from integration_tests.acceptance import (
    ABNORMAL_STATE,
    ACCEPTANCE_TEST_CONFIG,
    CONFIGURED_CATALOG,
    DATASET_SEED,
    EXPECTED_RECORDS,
    INVALID_CONFIG,
    SAMPLE_CONFIG,
    configured_catalog,
    discover_streams,
    expected_record_lines,
    load_json,
    read_catalog,
)
from integration_tests.emulator import Dataset, Emulator
from integration_tests.regenerate_acceptance_fixtures import FUTURE_CURSOR_VALUES, abnormal_state
from integration_tests.standard_suite import (  # noqa: F401 (collected here, see above)
    TestManifestOnly,
    TestSourceIterable,
    test_every_discovered_schema_sets_additional_properties_only_to_true,
)
from source_iterable.components.campaign_selection import ACTIVE_STATES
from source_iterable.source import SourceIterable
from unit_tests.manifest_streams import incremental_stream_names, stream_definitions

pytestmark = pytest.mark.usefixtures("acceptance_emulator")

PROJECT_TYPES = ["email", "userId", "hybrid"]
# Objects Iterable cannot filter by date: their cursor is applied by the connector to what it reads.
CLIENT_SIDE_INCREMENTAL = {"campaigns", "templates", "catalog_items"}


def future_read_as_now() -> set[str]:
    """The streams whose state in the future is read as now (FutureCursorAsNow): the metrics streams, whose running
    campaigns' numbers change on every sync whatever the state says."""
    return {
        stream["name"]
        for stream in SourceIterable().resolved_manifest["streams"]
        if any(m.get("class_name", "").endswith(".FutureCursorAsNow") for m in stream.get("state_migrations") or [])
    }


def catalog_names(catalog: dict[str, Any]) -> list[str]:
    return [configured["stream"]["name"] for configured in catalog["streams"]]


def incremental_names(catalog: dict[str, Any]) -> set[str]:
    return {
        configured["stream"]["name"] for configured in catalog["streams"] if configured["sync_mode"] == "incremental"
    }


def records_of(lines: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(line["stream"], line["data"]) for line in lines]


def read_expected_records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXPECTED_RECORDS.read_text(encoding="utf-8").splitlines()]


def cursor_values(stream_state: dict[str, Any]) -> set[str]:
    """Every cursor value of a state: the flat {cursor: value}; a per-partition or global state's `state` and
    partitions; the states of its parents (`parent_state`). Other keys (`open_campaign_ids`, the CDK's
    `lookback_window` and `use_global_cursor`) hold no cursor."""
    values = {value for key, value in stream_state.items() if key in FUTURE_CURSOR_VALUES}
    values |= set((stream_state.get("state") or {}).values())
    for partition in stream_state.get("states") or []:
        values |= set(partition["cursor"].values())
    for parent_state in (stream_state.get("parent_state") or {}).values():
        values |= cursor_values(parent_state)
    return values


@pytest.fixture(scope="module")
def sample_config() -> dict[str, Any]:
    config: dict[str, Any] = load_json(SAMPLE_CONFIG)
    return config


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    loaded: dict[str, Any] = load_json(CONFIGURED_CATALOG)
    return loaded


@pytest.fixture(scope="module")
def fresh_read(
    acceptance_emulator: Emulator, sample_config: dict[str, Any], catalog: dict[str, Any]
) -> tuple[EntrypointOutput, Counter[str]]:
    """A first read of the whole catalog, with the paths it requested."""
    acceptance_emulator.clear_requests()
    output = read_catalog(sample_config, catalog)
    return output, Counter(request.path for request in acceptance_emulator.requests)


@pytest.fixture(scope="module")
def future_state_read(
    acceptance_emulator: Emulator, sample_config: dict[str, Any], catalog: dict[str, Any]
) -> tuple[EntrypointOutput, Counter[str]]:
    """A read of the whole catalog from abnormal_state.json, with the paths it requested."""
    state = [AirbyteStateMessageSerializer.load(message) for message in load_json(ABNORMAL_STATE)]
    acceptance_emulator.clear_requests()
    output = read_catalog(sample_config, catalog, state)
    return output, Counter(request.path for request in acceptance_emulator.requests)


def test_the_configs_point_at_the_emulator_and_differ_only_in_the_api_key(acceptance_emulator: Emulator) -> None:
    sample, invalid = load_json(SAMPLE_CONFIG), load_json(INVALID_CONFIG)
    assert sample["api_base_url"] == acceptance_emulator.url
    assert sample["api_key"] == acceptance_emulator.api_key
    assert invalid["api_key"] not in (acceptance_emulator.api_key, acceptance_emulator.read_only_key)
    assert {**invalid, "api_key": sample["api_key"]} == sample


def test_the_acceptance_config_names_the_fixture_files() -> None:
    tests = yaml.safe_load(ACCEPTANCE_TEST_CONFIG.read_text(encoding="utf-8"))["acceptance_tests"]
    assert tests["connection"]["tests"] == [
        {"config_path": "integration_tests/sample_config.json", "status": "succeed"},
        {"config_path": "integration_tests/invalid_config.json", "status": "failed"},
    ]
    assert tests["basic_read"]["tests"] == [
        {
            "config_path": "integration_tests/sample_config.json",
            "empty_streams": [],
            "expect_records": {"path": "integration_tests/expected_records.jsonl"},
            "ignored_fields": {
                stream: [
                    {
                        "name": "synced_at",
                        "bypass_reason": "the moment of the sync that read the row; it differs on every read",
                    }
                ]
                for stream in ("campaigns_metrics", "experiments_metrics")
            },
        }
    ]
    assert tests["incremental"]["tests"][0]["future_state"] == {
        "future_state_path": "integration_tests/abnormal_state.json"
    }


def test_every_stream_of_every_project_type_is_in_the_configured_catalog(
    sample_config: dict[str, Any], catalog: dict[str, Any]
) -> None:
    manifest_streams = set()
    for project_type in PROJECT_TYPES:
        config = {**sample_config, "project_type": project_type}
        manifest_streams |= {stream.name for stream in SourceIterable(config=config).streams(config)}
    assert sorted(catalog_names(catalog)) == sorted(manifest_streams)
    assert manifest_streams == set(stream_definitions())  # no stream of the manifest is left out by every config


def test_the_configured_catalog_is_discover_with_incremental_on_each_cursor(
    sample_config: dict[str, Any], catalog: dict[str, Any]
) -> None:
    assert catalog == configured_catalog(discover_streams(sample_config))
    incremental = incremental_names(catalog)
    assert incremental == incremental_stream_names()  # every stream with a cursor in the manifest
    assert (
        CLIENT_SIDE_INCREMENTAL | {"users", "email_send", "custom_event", "unknown_session", "email_templates"}
        <= incremental
    )


def test_every_stream_of_the_catalog_has_expected_records(catalog: dict[str, Any]) -> None:
    lines = read_expected_records()
    assert {key for line in lines for key in line} == {"stream", "data", "emitted_at"}
    assert set(catalog_names(catalog)) == {line["stream"] for line in lines}


def test_a_fresh_read_of_the_catalog_equals_expected_records(
    fresh_read: tuple[EntrypointOutput, Counter[str]], catalog: dict[str, Any]
) -> None:
    output, _ = fresh_read
    fresh = [json.loads(line) for line in expected_record_lines(output, catalog_names(catalog))]
    assert records_of(fresh) == records_of(read_expected_records())


def test_every_record_of_an_incremental_stream_carries_its_cursor_field(
    fresh_read: tuple[EntrypointOutput, Counter[str]], catalog: dict[str, Any]
) -> None:
    """Airbyte's acceptance tests (TestIncremental) read each record's cursor field to compare it with the state."""
    output, _ = fresh_read
    cursors = {
        configured["stream"]["name"]: configured["cursor_field"]
        for configured in catalog["streams"]
        if configured["sync_mode"] == "incremental"
    }

    def cursor_value(data: Any, path: list[str]) -> Any:
        for key in path:
            data = data.get(key) if isinstance(data, dict) else None
        return data

    records = [(message.record.stream, message.record.data) for message in output.records if message.record]
    without = Counter(
        stream for stream, data in records if stream in cursors and cursor_value(data, cursors[stream]) is None
    )
    assert without == Counter()
    assert set(cursors) <= {stream for stream, _ in records}


@pytest.mark.parametrize(
    "path, calls_per_minute",
    [
        pytest.param("/api/lists/getUsers", 5, id="lists-getUsers"),
        pytest.param("/api/campaigns/metrics", 10, id="campaigns-metrics"),
        pytest.param("/api/experiments/metrics", 10, id="experiments-metrics"),
    ],
)
def test_a_read_of_the_data_set_stays_within_the_api_budget_so_it_never_waits_a_minute(
    fresh_read: tuple[EntrypointOutput, Counter[str]], path: str, calls_per_minute: int
) -> None:
    """Each read paces these endpoints with the manifest's api_budget: a data set needing one more call than it
    allows per minute would make every acceptance read wait for the next minute."""
    _, requested = fresh_read
    assert 0 < requested[path] <= calls_per_minute


def test_abnormal_state_puts_every_incremental_cursor_in_2100(catalog: dict[str, Any]) -> None:
    states = load_json(ABNORMAL_STATE)
    assert states == abnormal_state(catalog)
    assert {message["stream"]["stream_descriptor"]["name"] for message in states} == incremental_names(catalog)


def test_given_abnormal_state_then_no_export_is_requested_and_incremental_streams_emit_nothing_but_running_campaigns(
    future_state_read: tuple[EntrypointOutput, Counter[str]], catalog: dict[str, Any]
) -> None:
    """A state in 2100 is read as now by the metrics streams (a warning says so): campaigns_metrics reads the
    campaigns that run, which have no experiments (experiments_metrics: none); campaigns_metrics_daily has no day
    between now and end_date (2026-01-01). Every other incremental stream emits nothing."""
    output, requested = future_state_read
    incremental = incremental_names(catalog)
    full_refresh_records = [
        (stream, data) for stream, data in records_of(read_expected_records()) if stream not in incremental
    ]
    running = [c["id"] for c in Dataset(seed=DATASET_SEED).campaigns if c["campaignState"] in ACTIVE_STATES]
    read = [json.loads(line) for line in expected_record_lines(output, catalog_names(catalog))]
    assert [(stream, data) for stream, data in records_of(read) if stream not in future_read_as_now()] == (
        full_refresh_records
    )
    assert sorted((stream, data["id"]) for stream, data in records_of(read) if stream in future_read_as_now()) == [
        ("campaigns_metrics", campaign_id) for campaign_id in sorted(running)
    ]
    assert requested["/api/export/data.json"] == 0


def test_given_abnormal_state_then_client_side_incremental_streams_request_nothing_since_the_cursor_is_after_now(
    future_state_read: tuple[EntrypointOutput, Counter[str]],
) -> None:
    """campaigns, templates, catalog_items: no window lies between a state in 2100 and now, so no page is read.
    The campaigns' one page is read by campaigns_metrics and experiments_metrics, whose state is read as now."""
    _, requested = future_state_read
    assert requested["/api/templates"] == 0
    assert requested["/api/campaigns"] == 2
    assert requested["/api/campaigns/metrics"] == 1
    assert requested["/api/experiments/metrics"] == 1
    assert [path for path in requested if path.endswith("/items")] == []


def test_given_abnormal_state_then_every_incremental_state_stays_in_2100_but_the_metrics_states_are_now(
    future_state_read: tuple[EntrypointOutput, Counter[str]],
) -> None:
    before = datetime.now(UTC)
    output, _ = future_state_read
    streams = [message.state.stream for message in output.state_messages if message.state and message.state.stream]
    final = {
        stream.stream_descriptor.name: dict(stream.stream_state.__dict__) for stream in streams if stream.stream_state
    }
    for message in load_json(ABNORMAL_STATE):
        name = message["stream"]["stream_descriptor"]["name"]
        (cursor,) = message["stream"]["stream_state"]
        if name not in future_read_as_now():
            assert cursor_values(final[name]) == {FUTURE_CURSOR_VALUES[cursor]}, name
    assert final["campaigns_metrics_daily"] == {"date": before.strftime("%Y-%m-%d")}
    for name in ("campaigns_metrics", "experiments_metrics"):
        synced_at = datetime.strptime(final[name]["synced_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert before - timedelta(hours=1) <= synced_at <= before, name
