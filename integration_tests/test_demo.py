"""The demo driver's own logic: which sync mode each discovered stream gets, and what counts as a failure."""

import subprocess
import sys

import requests

from integration_tests.demo import CommandResult, _record, configured_catalog


def stream(name, modes, key=None, cursor=None):
    return {
        "name": name,
        "json_schema": {},
        "supported_sync_modes": modes,
        "source_defined_primary_key": key,
        "default_cursor_field": cursor,
    }


def test_every_discovered_stream_is_configured_incremental_where_supported_else_full_refresh():
    catalog = {
        "streams": [
            stream("email_send", ["full_refresh", "incremental"], key=[["_iterable_event_id"]], cursor=["createdAt"]),
            stream("channels", ["full_refresh"], key=[["id"]]),
        ]
    }
    configured = configured_catalog(catalog)["streams"]
    summary = [
        (s["stream"]["name"], s["sync_mode"], s["destination_sync_mode"], s.get("cursor_field")) for s in configured
    ]
    assert summary == [
        ("email_send", "incremental", "append_dedup", ["createdAt"]),
        ("channels", "full_refresh", "overwrite", None),
    ]


def test_an_error_trace_fails_the_command_even_with_exit_code_zero():
    result = CommandResult(args=["read"], returncode=0, seconds=0.0)
    _record(
        {"type": "TRACE", "trace": {"type": "ERROR", "error": {"message": "boom", "failure_type": "system_error"}}},
        result,
    )
    assert not result.ok and result.errors == ["system_error: boom"]


def state(value):
    return {
        "type": "STATE",
        "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "lists"}, "stream_state": value}},
    }


def test_records_and_the_last_state_are_counted_per_stream():
    result = CommandResult(args=["read"], returncode=0, seconds=0.0)
    record = {"type": "RECORD", "record": {"stream": "lists", "data": {}, "emitted_at": 0}}
    for message in (record, record, state({"a": 1}), state({"a": 2})):
        _record(message, result)
    assert result.ok and result.records == {"lists": 2} and result.states == {"lists": {"a": 2}}


def test_the_emulator_command_prints_its_url_and_keys_and_serves():
    process = subprocess.Popen(
        [sys.executable, "-m", "integration_tests.emulator", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(3)]
        settings = dict(line.split("=", 1) for line in lines)
        assert set(settings) == {"URL", "API_KEY", "READ_ONLY_API_KEY"}
        response = requests.get(f"{settings['URL']}/api/channels", headers={"Api-Key": settings["API_KEY"]}, timeout=10)
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
