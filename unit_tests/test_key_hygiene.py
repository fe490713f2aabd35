"""Issue 12 §3: the API key never appears in the console script's stdout or stderr, in any encoding, whatever the
command and whatever Iterable's error bodies echo; a key pasted with surrounding whitespace works; an empty key is
refused naming `api_key`. The console script runs in a subprocess against a loopback server."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from unit_tests.loopback import Answer, LoopbackServer

CONSOLE_SCRIPT = str(Path(sys.executable).with_name("source-iterable"))
# Characters that JSON, Python's repr and URL encoding each write differently.
KEY = 'itbl"key/with+special=chars\\0123'
ENCODINGS = {
    "raw": KEY,
    "json": json.dumps(KEY)[1:-1],
    "repr": repr(KEY)[1:-1],
    "url": quote(KEY, safe=""),
    "url-plus": quote_plus(KEY, safe=""),
}


def echoing(status: int, code: str = "BadApiKey") -> Answer:
    """An Iterable error body quoting the key it was given."""
    return Answer(status, json.dumps({"msg": f"Invalid API key: {KEY}", "code": code, "params": None}).encode())


def run(tmp_path: Path, server: LoopbackServer, command: str, stream: str | None = None, **config: Any) -> str:
    settings = {"api_key": f" {KEY}\n", "start_date": "2024-01-01", "api_base_url": server.url, **config}
    (tmp_path / "config.json").write_text(json.dumps(settings))
    args = [CONSOLE_SCRIPT, command, "--config", "config.json"]
    if stream:
        catalog = {
            "streams": [
                {
                    "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
                    "sync_mode": "full_refresh",
                    "destination_sync_mode": "overwrite",
                }
            ]
        }
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        args += ["--catalog", "catalog.json"]
    result = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    return result.stdout + result.stderr


def leaks(output: str) -> list[str]:
    return [name for name, form in ENCODINGS.items() if form in output]


def messages(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_given_a_key_echoed_by_a_401_when_check_then_the_status_message_masks_it(
    tmp_path: Path, loopback: Callable[[], LoopbackServer]
) -> None:
    server = loopback()
    server.answer("/api/channels", echoing(401))

    output = run(tmp_path, server, "check")

    statuses = [m["connectionStatus"] for m in messages(output) if m["type"] == "CONNECTION_STATUS"]
    assert leaks(output) == []
    assert statuses[0]["status"] == "FAILED"
    assert "(BadApiKey: Invalid API key: ****)" in statuses[0]["message"]


def test_given_a_key_echoed_by_a_400_when_discover_then_the_warning_masks_it(
    tmp_path: Path, loopback: Callable[[], LoopbackServer]
) -> None:
    server = loopback()
    server.answer("/api/users/getFields", echoing(400, "BadParams"))

    output = run(tmp_path, server, "discover")

    warnings = [
        m["log"]["message"]
        for m in messages(output)
        if m["type"] == "LOG" and m["log"]["level"] == "WARN" and "users/getFields failed" in m["log"]["message"]
    ]
    assert leaks(output) == []
    assert len(warnings) == 1
    assert "Invalid API key: ****" in warnings[0]


def test_given_a_key_echoed_in_an_error_envelope_on_a_200_when_read_then_the_trace_masks_it(
    tmp_path: Path, loopback: Callable[[], LoopbackServer]
) -> None:
    server = loopback()
    server.answer("/api/lists", echoing(200))

    output = run(tmp_path, server, "read", "lists")

    errors = [m["trace"]["error"] for m in messages(output) if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert leaks(output) == []
    assert "Iterable's error BadApiKey: 'Invalid API key: ****'" in errors[0]["message"]


def test_given_a_key_echoed_by_401s_everywhere_when_read_then_the_config_error_masks_it(
    tmp_path: Path, loopback: Callable[[], LoopbackServer]
) -> None:
    server = loopback()
    server.answer("/api/lists", echoing(401))
    server.answer("/api/channels", echoing(401))

    output = run(tmp_path, server, "read", "lists")

    errors = [m["trace"]["error"] for m in messages(output) if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert leaks(output) == []
    assert errors[0]["failure_type"] == "config_error"
    assert "(BadApiKey: Invalid API key: ****)" in errors[0]["message"]


def test_given_a_key_with_surrounding_whitespace_when_read_then_iterable_gets_it_stripped(
    tmp_path: Path, loopback: Callable[[], LoopbackServer]
) -> None:
    server = loopback()
    server.answer("/api/lists", Answer(200, b'{"lists": [{"id": 7, "name": "a"}]}'))

    output = run(tmp_path, server, "read", "lists")

    assert [received.headers["Api-Key"] for received in server.received] == [KEY]
    assert [m["record"]["data"]["id"] for m in messages(output) if m["type"] == "RECORD"] == [7]
    assert leaks(output) == []


@pytest.mark.parametrize("key", ["", " \n"])
def test_given_an_empty_key_when_check_then_failed_status_naming_api_key(
    tmp_path: Path, loopback: Callable[[], LoopbackServer], key: str
) -> None:
    server = loopback()

    output = run(tmp_path, server, "check", api_key=key)

    statuses = [m["connectionStatus"] for m in messages(output) if m["type"] == "CONNECTION_STATUS"]
    assert statuses == [{"status": "FAILED", "message": "Config field 'api_key' must not be empty."}]
    assert server.received == []
