"""Kill -9 in the middle of a long export range, resume from the last STATE: no gap, nothing read twice beyond
the window being read at the kill. The range is read in windows and the state moves after each, so the resumed
sync starts where the first one's last completed window ended, not at the start of the range."""

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from integration_tests.emulator import Emulator, faults
from integration_tests.test_export_end_to_end import (
    CONSOLE_SCRIPT,
    a_catalog,
    canonical,
    expected_event,
    export_requests,
    final_states,
    records_by_stream,
    run,
    without_event_ids,
)


def messages_so_far(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(line) for line in lines if line.endswith("}")]


def test_given_a_sync_killed_after_a_window_when_resumed_then_it_starts_there_and_the_union_is_exact(
    tmp_path: Path, emulator: Emulator, emulator_config: dict[str, Any]
) -> None:
    config = {**emulator_config, "window_days": 30, "lookback_window": 0, "export_mode": "sync"}
    catalog = a_catalog(["email_send"], "incremental")
    # Counting the year fails (the probe's answer holds a broken line), so it is read in 30-day windows.
    emulator.inject(faults.malformed_line(after_lines=0, times=None, match={"onlyFields": "createdAt"}))
    # Two export requests a minute: the probe and the first window go at once, the second window waits a minute.
    (tmp_path / "config.json").write_text(json.dumps({**config, "export_requests_per_minute": 2}))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    with (tmp_path / "out.jsonl").open("wb") as out:
        reader = subprocess.Popen(
            [CONSOLE_SCRIPT, "read", "--config", "config.json", "--catalog", "catalog.json"],
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        try:
            # Until the first STATE, however slow the start (the test's timeout ends a sync that never gets there).
            while not final_states(messages_so_far(tmp_path / "out.jsonl")) and reader.poll() is None:
                time.sleep(0.1)
        finally:
            reader.kill()
            reader.wait()
    killed = messages_so_far(tmp_path / "out.jsonl")
    state = final_states(killed)["email_send"]
    assert "2025-01-01T00:00:00Z" < state["createdAt"] < "2026-01-01T00:00:00Z"
    emulator.clear_requests()

    stream_state = [{"type": "STREAM", "stream": {"stream_descriptor": {"name": "email_send"}, "stream_state": state}}]
    (tmp_path / "resumed").mkdir()
    resumed = run(tmp_path / "resumed", "read", config=config, catalog=catalog, state=stream_state)

    start = state["createdAt"].replace("T", " ").rstrip("Z")
    assert export_requests(emulator)[0][1] == start
    events = [expected_event(raw) for raw in emulator.dataset.events["emailSend"]]
    first = without_event_ids(records_by_stream(killed).get("email_send", []))
    second = without_event_ids(records_by_stream(resumed)["email_send"])
    assert canonical(second) == canonical([event for event in events if event["createdAt"] >= state["createdAt"]])
    assert set(canonical(first)) | set(canonical(second)) == set(canonical(events))
    assert final_states(resumed)["email_send"] == {"createdAt": "2026-01-01T00:00:00Z"}
