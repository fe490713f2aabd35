"""End to end: the installed console script `source-iterable` reads export streams and users from the emulator.

Every command runs in a fresh temporary directory; the records are compared with the emulator's data set exactly,
converted here independently of the connector's code (timestamps to RFC 3339 UTC, transactionalData decoded, the two
case-colliding user fields renamed as the issue states, top-level nulls dropped as the Airbyte protocol does).
"""

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from integration_tests.emulator import Dataset, Emulator, faults

CONSOLE_SCRIPT = shutil.which("source-iterable", path=str(Path(sys.executable).parent)) or "source-iterable"
# Stream name -> dataTypeName in the emulator's data set.
EXPORT_STREAMS = {
    "email_send": "emailSend",
    "email_click": "emailClick",
    "email_unsubscribe": "emailUnSubscribe",
    "in_app_close": "inAppClose",
    "purchase": "purchase",
    "custom_event": "customEvent",
}
ITERABLE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d+))?(?:\.000Z| \+00:00)")


def expected_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: expected_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [expected_value(item) for item in value]
    match = ITERABLE_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return value
    moment = datetime.strptime(f"{match[1]} {match[2]}", "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%dT%H:%M:%S")
    fraction = (match[3] or "").rstrip("0")
    return f"{moment}.{fraction}Z" if fraction else f"{moment}Z"


def expected_event(raw: Mapping[str, Any]) -> dict[str, Any]:
    record = expected_value(dict(raw))
    if isinstance(record.get("transactionalData"), str):
        record["transactionalData"] = json.loads(record["transactionalData"])
    return {key: value for key, value in record.items() if value is not None}


def expected_user(raw: Mapping[str, Any]) -> dict[str, Any]:
    record = expected_event(json.loads(json.dumps(raw)))
    if "Industry" in record:
        record["_industry"] = record.pop("Industry")
    if "Intro APR" in record.get("offers", {}):
        record.setdefault("_offers", {})["intro APR"] = record["offers"].pop("Intro APR")
    return record


def run(
    tmp_path: Path, *args: str, config: Mapping[str, Any], catalog: Any = None, state: Any = None
) -> list[dict[str, Any]]:
    """One protocol command from `tmp_path`; its stdout messages (stdout must be JSON lines only)."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    command = [CONSOLE_SCRIPT, *args, "--config", "config.json"]
    for name, content in (("catalog", catalog), ("state", state)):
        if content is not None:
            (tmp_path / f"{name}.json").write_text(json.dumps(content))
            command += [f"--{name}", f"{name}.json"]
    finished = subprocess.run(command, check=False, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    messages = [json.loads(line) for line in finished.stdout.splitlines() if line.strip()]
    assert finished.returncode == 0, [m for m in messages if m["type"] == "TRACE"] or finished.stderr[-2000:]
    return messages


def a_catalog(names: list[str], sync_mode: str) -> dict[str, Any]:
    cursors = {"users": "profileUpdatedAt"}
    return {
        "streams": [
            {
                "stream": {"name": name, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
                "sync_mode": sync_mode,
                "destination_sync_mode": "append",
                "cursor_field": [cursors.get(name, "createdAt")],
            }
            for name in names
        ]
    }


def records_by_stream(messages: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        if message["type"] == "RECORD":
            found.setdefault(message["record"]["stream"], []).append(message["record"]["data"])
    return found


def final_states(messages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        m["state"]["stream"]["stream_descriptor"]["name"]: m["state"]["stream"]["stream_state"]
        for m in messages
        if m["type"] == "STATE"
    }


def without_event_ids(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ids = [record.pop("_iterable_event_id") for record in records]
    assert len(set(ids)) == len(ids), "an _iterable_event_id repeats"
    return records


def canonical(records: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(record, sort_keys=True) for record in records)


def export_requests(emulator: Emulator) -> list[tuple[str, str, str]]:
    return [
        (r.params["dataTypeName"][0], r.params["startDateTime"][0], r.params["endDateTime"][0])
        for r in emulator.requests
        if r.path == "/api/export/data.json"
    ]


@pytest.fixture
def config(emulator: Emulator, emulator_config: dict[str, Any]) -> dict[str, Any]:
    return {**emulator_config, "window_days": 120, "lookback_window": 0}


@pytest.fixture(scope="module")
def discovered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, dict[str, Any]]]:
    """The catalog `discover` gives for the emulator's project, by stream name, computed once for the module."""
    with Emulator(Dataset(seed=7), rate_limits={}) as emu:
        config = {"api_key": emu.api_key, "start_date": "2025-01-01T00:00:00Z", "api_base_url": emu.url}
        messages = run(tmp_path_factory.mktemp("discover"), "discover", config=config)
        yield {s["name"]: s for m in messages if m["type"] == "CATALOG" for s in m["catalog"]["streams"]}


def test_given_the_emulator_when_full_refresh_then_incremental_then_records_equal_its_data_and_nothing_is_read_twice(
    tmp_path: Path, emulator: Emulator, config: dict[str, Any]
) -> None:
    dataset: Dataset = emulator.dataset
    names = [*EXPORT_STREAMS, "users"]
    expected = {
        name: [expected_event(raw) for raw in dataset.events[data_type]] for name, data_type in EXPORT_STREAMS.items()
    }
    expected["users"] = [expected_user(raw) for raw in dataset.users]

    full_refresh = records_by_stream(run(tmp_path, "read", config=config, catalog=a_catalog(names, "full_refresh")))
    first = run(tmp_path, "read", config=config, catalog=a_catalog(names, "incremental"))
    incremental = records_by_stream(first)
    for name in EXPORT_STREAMS:
        assert canonical(without_event_ids(full_refresh[name])) == canonical(expected[name]), name
        assert canonical(without_event_ids(incremental[name])) == canonical(expected[name]), name
    assert canonical(full_refresh["users"]) == canonical(incremental["users"]) == canonical(expected["users"])
    assert dict(final_states(first)) == {
        **{name: {"createdAt": "2026-01-01T00:00:00Z"} for name in EXPORT_STREAMS},
        "users": {"profileUpdatedAt": "2026-01-01T00:00:00Z"},
    }

    emulator.clear_requests()
    state = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": value}}
        for name, value in final_states(first).items()
    ]
    second = run(tmp_path, "read", config=config, catalog=a_catalog(names, "incremental"), state=state)
    assert records_by_stream(second) == {}
    assert export_requests(emulator) == []


def test_given_a_body_dropped_mid_window_then_the_window_is_split_and_no_record_is_lost_or_repeated(
    tmp_path: Path, emulator: Emulator, config: dict[str, Any]
) -> None:
    emulator.inject(faults.drop_mid_body(after_lines=3, times=1, match={"dataTypeName": "emailSend"}))
    messages = run(
        tmp_path, "read", config={**config, "window_days": 365}, catalog=a_catalog(["email_send"], "incremental")
    )
    records = without_event_ids(records_by_stream(messages)["email_send"])
    assert canonical(records) == canonical([expected_event(raw) for raw in emulator.dataset.events["emailSend"]])
    assert export_requests(emulator) == [
        ("emailSend", "2025-01-01 00:00:00", "2026-01-01 00:00:00"),
        ("emailSend", "2025-01-01 00:00:00", "2025-07-02 12:00:00"),
        ("emailSend", "2025-07-02 12:00:00", "2026-01-01 00:00:00"),
    ]
    assert final_states(messages)["email_send"] == {"createdAt": "2026-01-01T00:00:00Z"}


def test_given_discover_then_users_schema_has_the_projects_fields_renamed(
    discovered: dict[str, dict[str, Any]],
) -> None:
    streams = discovered
    properties = streams["users"]["json_schema"]["properties"]
    assert {"industry", "_industry", "offers", "_offers", "loyaltyPoints", "lastPurchaseDate"} <= set(properties)
    assert "Industry" not in properties
    assert properties["lastPurchaseDate"] == {"type": ["null", "string"], "format": "date-time"}
    assert streams["users"]["source_defined_primary_key"] == [["email"]]
    assert set(EXPORT_STREAMS) <= set(streams)
    assert streams["email_send"]["source_defined_primary_key"] == [["_iterable_event_id"]]


def test_given_a_429_with_retry_after_then_the_window_is_asked_again_after_the_pause_and_read_once(
    tmp_path: Path, emulator: Emulator, config: dict[str, Any]
) -> None:
    emulator.inject(faults.rate_limited(retry_after=1, times=1, match={"dataTypeName": "purchase"}))
    messages = run(
        tmp_path, "read", config={**config, "window_days": 365}, catalog=a_catalog(["purchase"], "incremental")
    )
    records = without_event_ids(records_by_stream(messages)["purchase"])
    assert canonical(records) == canonical([expected_event(raw) for raw in emulator.dataset.events["purchase"]])
    assert [
        (r.status, r.params["startDateTime"][0]) for r in emulator.requests if r.path == "/api/export/data.json"
    ] == [
        (429, "2025-01-01 00:00:00"),
        (200, "2025-01-01 00:00:00"),
    ]


def test_given_exports_waiting_on_the_throttle_then_the_rest_streams_are_read_meanwhile(
    tmp_path: Path, emulator: Emulator, config: dict[str, Any], discovered: dict[str, dict[str, Any]]
) -> None:
    """Export partitions wait for the throttle inside worker threads; REST streams must not queue behind them."""
    names = list(discovered)
    emulator.clear_requests()
    (tmp_path / "config.json").write_text(
        json.dumps({**config, "export_requests_per_minute": 1, "export_mode": "sync"})
    )
    (tmp_path / "catalog.json").write_text(json.dumps(a_catalog(names, "full_refresh")))
    reader = subprocess.Popen(
        [CONSOLE_SCRIPT, "read", "--config", "config.json", "--catalog", "catalog.json"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rest_paths = {
        "/api/campaigns",
        "/api/channels",
        "/api/lists",
        "/api/lists/getUsers",
        "/api/messageTypes",
        "/api/templates",
        "/api/journeys",
        "/api/snippets",
        "/api/webhooks",
        "/api/users/getFields",
    }
    try:
        # Wait for what is asserted, the first export sent and every REST endpoint asked, in either order: the
        # REST streams may all be read before the first export leaves (a slow start), never after the second
        # (61 s later). One snapshot of the log for both, so no request slips in between. No deadline of its own
        # (a slow start is no failure): the test's timeout ends a sync that never gets there.
        while True:
            seen = list(emulator.requests)
            requested = {r.path for r in seen}
            exports = [r for r in seen if r.path == "/api/export/data.json"]
            if (rest_paths <= requested and exports) or reader.poll() is not None:
                break
            time.sleep(0.2)
    finally:
        reader.kill()
        reader.wait()
    assert rest_paths <= requested, sorted(rest_paths - requested)
    assert len(exports) == 1, exports  # one export per minute: every other export stream is still waiting
