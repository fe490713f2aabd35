"""A bad config through the console script: one message naming the field, no stack trace, the protocol's exit codes.

check reports a FAILED connection status (exit 0); discover and read end with one TRACE error of type config_error
(exit 1). No FATAL log, no `stack_trace`, no traceback anywhere in the output.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CONSOLE_SCRIPT = str(Path(sys.executable).with_name("source-iterable"))
CATALOG = {
    "streams": [
        {
            "stream": {"name": "channels", "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
            "sync_mode": "full_refresh",
            "destination_sync_mode": "overwrite",
        }
    ]
}
BAD_CONFIGS = [
    pytest.param(
        {"start_date": "garbage"},
        "Config field 'start_date' must be a date 2024-01-01 or a UTC date-time 2024-01-01T00:00:00Z; got 'garbage'.",
        id="start_date",
    ),
    pytest.param({"region": "APAC"}, "Config field 'region' must be one of US, EU; got 'APAC'.", id="region"),
    pytest.param({"api_key": 12345}, "Config field 'api_key' must be a string.", id="api_key-number"),
]


def run_command(tmp_path: Path, command: str, config_change: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    config = {"api_key": "test-key-not-real", "start_date": "2024-01-01", "api_base_url": "http://127.0.0.1:9"}
    (tmp_path / "config.json").write_text(json.dumps({**config, **config_change}))
    (tmp_path / "catalog.json").write_text(json.dumps(CATALOG))
    args = [CONSOLE_SCRIPT, command, "--config", "config.json"]
    if command == "read":
        args += ["--catalog", "catalog.json"]
    return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)


def messages_of(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("config_change, message", BAD_CONFIGS)
@pytest.mark.parametrize("command", ["discover", "read"])
def test_given_bad_config_when_discover_or_read_then_one_config_error_trace_without_stack_trace(
    tmp_path: Path, command: str, config_change: dict[str, Any], message: str
) -> None:
    result = run_command(tmp_path, command, config_change)

    errors = [m["trace"]["error"] for m in messages_of(result) if m["type"] == "TRACE"]
    assert result.returncode == 1
    assert errors == [{"message": message, "internal_message": message, "failure_type": "config_error"}]
    assert "Traceback" not in result.stdout + result.stderr
    assert not [m for m in messages_of(result) if m["type"] == "LOG" and m["log"]["level"] == "FATAL"]


@pytest.mark.parametrize("config_change, message", BAD_CONFIGS)
def test_given_bad_config_when_check_then_failed_status_with_the_message_and_no_trace(
    tmp_path: Path, config_change: dict[str, Any], message: str
) -> None:
    result = run_command(tmp_path, "check", config_change)

    statuses = [m["connectionStatus"] for m in messages_of(result) if m["type"] == "CONNECTION_STATUS"]
    assert result.returncode == 0
    assert statuses == [{"status": "FAILED", "message": message}]
    assert [m for m in messages_of(result) if m["type"] == "TRACE"] == []
    assert "Traceback" not in result.stdout + result.stderr
