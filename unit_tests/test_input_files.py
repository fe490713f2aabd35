"""Issue 12 §6: bad `--config`/`--catalog`/`--state` files give one TRACE error naming the file and the problem
(exit 1, no traceback); GLOBAL, LEGACY and bare-object states are mapped to per-stream states."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.models import AirbyteStateMessageSerializer

from source_iterable.input_files import read_state_file
from source_iterable.run import run
from unit_tests.loopback import Answer, LoopbackServer

CONSOLE_SCRIPT = str(Path(sys.executable).with_name("source-iterable"))
CONFIG = {"api_key": "k", "start_date": "2024-01-01", "api_base_url": "http://127.0.0.1:9"}
CATALOG = {
    "streams": [
        {
            "stream": {"name": "campaigns", "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
            "sync_mode": "incremental",
            "destination_sync_mode": "append",
        }
    ]
}
GOOD = {"config.json": json.dumps(CONFIG), "catalog.json": json.dumps(CATALOG), "state.json": "[]"}


def run_read(
    tmp_path: Path, files: dict[str, str | None], capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> tuple[int, list[dict[str, Any]], str]:
    """`read` in this process with the given files (None: the file is absent); exit code, messages, raw output."""
    for name, content in {**GOOD, **files}.items():
        if content is not None:
            (tmp_path / name).write_text(content)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        sys,
        "argv",
        ["source-iterable", "read", "--config", "config.json", "--catalog", "catalog.json", "--state", "state.json"],
    )
    with pytest.raises(SystemExit) as exit_info:
        run()
    captured = capsys.readouterr()
    output = captured.out + captured.err
    return (
        exit_info.value.code,
        [json.loads(line) for line in captured.out.splitlines() if line.startswith("{")],
        output,
    )


BAD_FILES = [
    pytest.param({"config.json": None}, "The config file config.json does not exist.", id="config-missing"),
    pytest.param(
        {"config.json": '{"api_key": "k",'},
        "The config file config.json is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 17.",
        id="config-invalid-json",
    ),
    pytest.param(
        {"config.json": "[1]"},
        "The config file config.json must hold a JSON object; it holds a list.",
        id="config-list",
    ),
    pytest.param({"catalog.json": None}, "The catalog file catalog.json does not exist.", id="catalog-missing"),
    pytest.param(
        {"catalog.json": "{"},
        "The catalog file catalog.json is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2.",
        id="catalog-invalid-json",
    ),
    pytest.param(
        {"catalog.json": '{"streams": 3}'},
        """The catalog file catalog.json is not a configured Airbyte catalog: Schema validation failed: - 3 is not of type "list" (instance_path='streams')""",
        id="catalog-not-a-catalog",
    ),
    pytest.param({"state.json": None}, "The state file state.json does not exist.", id="state-missing"),
    pytest.param(
        {"state.json": "[{]"},
        "The state file state.json is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 3.",
        id="state-invalid-json",
    ),
    pytest.param(
        {"state.json": '[{"type": "PER_PLANET", "data": {}}]'},
        "The state file state.json holds a state message of type 'PER_PLANET'; this connector reads STREAM, GLOBAL "
        "and LEGACY states.",
        id="state-unknown-type",
    ),
    pytest.param(
        {"state.json": '{"campaigns": 5}'},
        "The state file state.json gives stream 'campaigns' the state a number; a stream's state is a JSON object "
        'such as {"updatedAt": 1704067200000}.',
        id="state-legacy-not-an-object",
    ),
    pytest.param(
        {
            "state.json": '[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "campaigns"}, "stream_state": {"updatedAt": "banana"}}}]'
        },
        "The state of stream 'campaigns' has updatedAt \"banana\", which is not a date: give epoch milliseconds "
        "(1704067200000) or an ISO 8601 date-time (2024-01-01T00:00:00Z).",
        id="state-banana",
    ),
]


@pytest.mark.parametrize("files, message", BAD_FILES)
def test_given_a_bad_input_file_when_read_then_one_config_error_trace_naming_it_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any, files: dict[str, str | None], message: str
) -> None:
    code, messages, output = run_read(tmp_path, files, capsys, monkeypatch)

    assert code == 1
    assert [(m["type"], m["trace"]["type"], m["trace"]["error"]) for m in messages] == [
        ("TRACE", "ERROR", {"message": message, "internal_message": message, "failure_type": "config_error"})
    ]
    assert "Traceback" not in output


def test_given_a_directory_as_config_when_check_then_config_error_in_the_console_script_without_traceback(
    tmp_path: Path,
) -> None:
    (tmp_path / "config.json").mkdir()

    result = subprocess.run(
        [CONSOLE_SCRIPT, "check", "--config", "config.json"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )

    errors = [json.loads(line)["trace"]["error"] for line in result.stdout.splitlines() if line.startswith("{")]
    assert result.returncode == 1
    assert [(e["message"], e["failure_type"]) for e in errors] == [
        ("The config file config.json is a directory, not a file.", "config_error")
    ]
    assert result.stderr == ""


def stream_states(messages: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    dumped = [AirbyteStateMessageSerializer.dump(message) for message in messages]
    return [
        (m["stream"]["stream_descriptor"]["name"], m["stream"]["stream_state"]) for m in dumped if m["type"] == "STREAM"
    ]


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(
            {
                "type": "GLOBAL",
                "global": {
                    "shared_state": {"x": 1},
                    "stream_states": [
                        {"stream_descriptor": {"name": "campaigns"}, "stream_state": {"updatedAt": 1}},
                        {
                            "stream_descriptor": {"name": "email_send"},
                            "stream_state": {"createdAt": "2024-01-01T00:00:00Z"},
                        },
                    ],
                },
            },
            id="global",
        ),
        pytest.param(
            [
                {
                    "type": "LEGACY",
                    "data": {"campaigns": {"updatedAt": 1}, "email_send": {"createdAt": "2024-01-01T00:00:00Z"}},
                }
            ],
            id="legacy-message",
        ),
        pytest.param(
            {"campaigns": {"updatedAt": 1}, "email_send": {"createdAt": "2024-01-01T00:00:00Z"}}, id="legacy-object"
        ),
    ],
)
def test_given_global_or_legacy_state_when_read_state_then_one_stream_state_per_stream(
    tmp_path: Path, state: Any
) -> None:
    (tmp_path / "state.json").write_text(json.dumps(state))

    assert stream_states(read_state_file(str(tmp_path / "state.json"))) == [
        ("campaigns", {"updatedAt": 1}),
        ("email_send", {"createdAt": "2024-01-01T00:00:00Z"}),
    ]


@pytest.mark.parametrize("content", ["", "null", "[]", "{}"])
def test_given_an_empty_state_file_when_read_state_then_no_state(tmp_path: Path, content: str) -> None:
    (tmp_path / "state.json").write_text(content or "null")

    assert read_state_file(str(tmp_path / "state.json")) == []


def test_given_a_key_in_an_invalid_config_file_when_read_then_the_error_does_not_quote_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: Any
) -> None:
    code, _, output = run_read(
        tmp_path, {"config.json": '{"api_key": "secret-key-in-file" "start_date": 1}'}, capsys, monkeypatch
    )

    assert code == 1
    assert "secret-key-in-file" not in output


def test_given_a_stream_failing_on_iterable_when_read_by_the_console_script_then_last_trace_keeps_system_error(
    tmp_path: Path, loopback: Callable[[], LoopbackServer]
) -> None:
    server = loopback()
    server.answer("/api/campaigns", Answer(200, b"<html>down</html>", {"Content-Type": "text/html"}))
    (tmp_path / "config.json").write_text(json.dumps({**CONFIG, "api_base_url": server.url}))
    (tmp_path / "catalog.json").write_text(json.dumps(CATALOG))

    result = subprocess.run(
        [CONSOLE_SCRIPT, "read", "--config", "config.json", "--catalog", "catalog.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    messages = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    final = messages[-1]["trace"]["error"]
    assert result.returncode == 1
    assert (final["failure_type"], final["message"]) == (
        "system_error",
        "1 stream(s) did not sync: campaigns: Iterable answered GET /api/campaigns page 1 with HTTP 200 and a body "
        "that is not valid JSON (text/html): '<html>down</html>', instead of JSON with 'campaigns'. The stream stops "
        "here, so that its state does not move past records it did not read; retry the sync later.",
    )
    assert "stack_trace" not in final
    assert not [m for m in messages if m["type"] == "LOG" and m["log"]["level"] == "FATAL"]
    assert result.stderr == ""
