"""End to end: the console script reads export streams through Iterable's export jobs on the emulator.

The emulator's job service runs Iterable's timing scaled down (`time_scale`), splits every job into small files
(several per stream) and serves them from its second loopback host, which refuses any request carrying `Api-Key`.
The connector's job-API pace is lifted (`export_job_requests_per_second`), the emulator's limits are off unless a
test says otherwise: every test here takes seconds.
"""

import itertools
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.emulator import Dataset, Emulator, ExportJobSettings, faults
from integration_tests.test_export_end_to_end import (
    CONSOLE_SCRIPT,
    a_catalog,
    canonical,
    expected_event,
    final_states,
    records_by_stream,
    run,
)
from source_iterable.source import SourceIterable

EXPORT_STREAM_NAMES = [
    stream["name"]
    for stream in SourceIterable(config={"api_key": "k", "start_date": "2025-01-01"})._source_config["streams"]
    if "ExportWindowRetriever" in str(stream.get("retriever", {}).get("class_name", ""))
] + ["users"]
JOB_SETTINGS = ExportJobSettings(time_scale=0.01, file_bytes=2048, files_page_size=3)


@pytest.fixture
def jobs_emulator() -> Iterator[Emulator]:
    with Emulator(Dataset(seed=7, events_per_type=20), rate_limits={}, export_jobs=JOB_SETTINGS) as emu:
        yield emu


def a_config(emulator: Emulator, mode: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_key": emulator.api_key,
        "start_date": "2025-01-01T00:00:00Z",
        "end_date": "2026-01-01T00:00:00Z",
        "api_base_url": emulator.url,
        "window_days": 60,
        "lookback_window": 0,
        "export_requests_per_minute": 1000,
        "export_job_requests_per_second": 1000,
        "export_mode": mode,
        **extra,
    }


def job_requests(emulator: Emulator) -> list[tuple[str, str]]:
    return [
        (r.method, r.path)
        for r in emulator.requests
        if r.path.startswith("/api/export/") and r.path != "/api/export/data.json"
    ]


def email_sends(emulator: Emulator) -> list[str]:
    return canonical([expected_event(raw) for raw in emulator.dataset.events["emailSend"]])


def without_ids(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for record in records:
        record.pop("_iterable_event_id", None)
    return records


def test_every_export_stream_gives_the_same_records_and_state_through_jobs_as_through_data_json(
    tmp_path: Path, jobs_emulator: Emulator
) -> None:
    catalog = a_catalog(EXPORT_STREAM_NAMES, "incremental")
    through_sync = run(tmp_path, "read", config=a_config(jobs_emulator, "sync"), catalog=catalog)
    assert job_requests(jobs_emulator) == []
    jobs_emulator.clear_requests()
    through_jobs = run(tmp_path, "read", config=a_config(jobs_emulator, "jobs"), catalog=catalog)
    assert not [r for r in jobs_emulator.requests if r.path == "/api/export/data.json"]
    assert len(jobs_emulator.jobs()) == len(EXPORT_STREAM_NAMES)
    sync_records, jobs_records = records_by_stream(through_sync), records_by_stream(through_jobs)
    assert sorted(jobs_records) == sorted(sync_records) == sorted(EXPORT_STREAM_NAMES)
    for name in EXPORT_STREAM_NAMES:
        assert sorted(json.dumps(r, sort_keys=True) for r in jobs_records[name]) == sorted(
            json.dumps(r, sort_keys=True) for r in sync_records[name]
        ), name
    assert final_states(through_jobs) == final_states(through_sync)
    assert max(job.files_total for job in jobs_emulator.jobs()) > 1


def test_files_are_fetched_without_the_api_key_and_while_the_job_runs(tmp_path: Path) -> None:
    settings = ExportJobSettings(time_scale=0.05, file_bytes=1024, seconds_per_file=4.0)
    with Emulator(Dataset(seed=7, events_per_type=30), rate_limits={}, export_jobs=settings) as emu:
        messages = run(tmp_path, "read", config=a_config(emu, "jobs"), catalog=a_catalog(["email_send"], "incremental"))
        records = without_ids(records_by_stream(messages)["email_send"])
        assert canonical(records) == email_sends(emu)
        assert emu.file_host_requests and not any(r.api_key_header or r.key_seen for r in emu.file_host_requests)
        job = emu.jobs()[0]
        assert job.files_total > 2
        # the first file was downloaded before Iterable (the emulator) had produced the job's last file
        wall_minus_monotonic = time.time() - time.monotonic()
        last_file_ready = emu.export_jobs._jobs[job.id].ends + wall_minus_monotonic
        assert min(r.at for r in emu.file_host_requests) < last_file_ready - 0.1


@pytest.mark.parametrize(
    "fault, jobs",
    [
        (faults.expiring_urls(seconds=0.0, times=1), 1),
        (faults.file_drop_mid_body(after_lines=2, times=2), 1),
        (faults.restarted_job(after_files=1, seconds=2.0, times=1), 1),
        (faults.failed_job(after_files=1, times=1), 2),
        (faults.truncated_export(longer_than_days=200, keep_files=1), 3),
    ],
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_a_job_fault_still_gives_every_record_exactly_once(
    tmp_path: Path, jobs_emulator: Emulator, fault: Any, jobs: int
) -> None:
    jobs_emulator.inject(fault)
    messages = run(
        tmp_path, "read", config=a_config(jobs_emulator, "jobs"), catalog=a_catalog(["email_send"], "incremental")
    )
    records = records_by_stream(messages)["email_send"]
    ids = [record["_iterable_event_id"] for record in records]
    assert fault.hits >= 1
    assert len(jobs_emulator.jobs()) == jobs
    assert len(ids) == len(set(ids))
    assert canonical(without_ids(records)) == email_sends(jobs_emulator)
    assert final_states(messages)["email_send"] == {"createdAt": "2026-01-01T00:00:00Z"}


def test_a_job_that_keeps_failing_falls_back_to_data_json(tmp_path: Path, jobs_emulator: Emulator) -> None:
    jobs_emulator.inject(faults.failed_job(after_files=0, times=None, match={"dataTypeName": "emailSend"}))
    messages = run(
        tmp_path, "read", config=a_config(jobs_emulator, "jobs"), catalog=a_catalog(["email_send"], "incremental")
    )
    assert canonical(without_ids(records_by_stream(messages)["email_send"])) == email_sends(jobs_emulator)
    assert [job.state for job in jobs_emulator.jobs()] == ["Failed"] * 3
    windows = [
        (r.params["startDateTime"][0], r.params["endDateTime"][0])
        for r in jobs_emulator.requests
        if r.path == "/api/export/data.json" and "onlyFields" not in r.params
    ]
    assert windows[0][0] == "2025-01-01 00:00:00" and windows[-1][1] == "2026-01-01 00:00:00"
    assert all(earlier[1] == later[0] for earlier, later in itertools.pairwise(windows))
    assert final_states(messages)["email_send"] == {"createdAt": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_cancels_the_jobs_the_sync_started_and_no_other(tmp_path: Path, signum: int) -> None:
    slow = ExportJobSettings(time_scale=1.0, queue_seconds=0.0, startup_seconds=600.0)
    with Emulator(Dataset(seed=7), rate_limits={}, export_jobs=slow) as emu:
        foreign = requests.post(
            f"{emu.url}/api/export/start",
            headers={"Api-Key": emu.api_key},
            timeout=10,
            json={
                "dataTypeName": "emailOpen",
                "outputFormat": "application/x-json-stream",
                "startDateTime": "2025-01-01 00:00:00",
                "endDateTime": "2026-01-01 00:00:00",
            },
        ).json()["jobId"]
        (tmp_path / "config.json").write_text(json.dumps(a_config(emu, "jobs")))
        (tmp_path / "catalog.json").write_text(json.dumps(a_catalog(["email_send", "purchase"], "incremental")))
        reader = subprocess.Popen(
            [CONSOLE_SCRIPT, "read", "--config", "config.json", "--catalog", "catalog.json"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while len(emu.jobs()) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        reader.send_signal(signum)
        reader.wait(30)
        states = {job.id: job.state for job in emu.jobs()}
    assert reader.returncode == 128 + signum
    assert states.pop(foreign) == "Running"
    assert sorted(states.values()) == ["Cancelled", "Cancelled"]


def test_a_sync_killed_mid_read_resumes_from_its_state_without_a_gap(tmp_path: Path, jobs_emulator: Emulator) -> None:
    names = ["email_send", "email_open", "purchase", "custom_event"]
    config = a_config(jobs_emulator, "jobs", max_concurrent_export_jobs=1)
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(a_catalog(names, "incremental")))
    reader = subprocess.Popen(
        [CONSOLE_SCRIPT, "read", "--config", "config.json", "--catalog", "catalog.json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    killed: list[dict[str, Any]] = []
    assert reader.stdout is not None
    for line in reader.stdout:
        message = json.loads(line)
        killed.append(message)
        if message["type"] == "STATE":
            reader.kill()  # kill -9 right after the first stream's state
            break
    reader.wait(30)
    state = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": value}}
        for name, value in final_states(killed).items()
    ]
    resumed = run(tmp_path, "read", config=config, catalog=a_catalog(names, "incremental"), state=state)
    clean = run(tmp_path, "read", config=config, catalog=a_catalog(names, "incremental"))
    union = records_by_stream(killed)
    for name, records in records_by_stream(resumed).items():
        union.setdefault(name, []).extend(records)
    for name in names:
        got = {json.dumps(record, sort_keys=True) for record in union[name]}
        assert got == {json.dumps(record, sort_keys=True) for record in records_by_stream(clean)[name]}, name
    assert final_states(resumed) == final_states(clean)


def test_at_iterables_real_job_limit_no_job_call_is_answered_429(tmp_path: Path) -> None:
    with Emulator(Dataset(seed=7), rate_limits={"export_jobs": (1, 1.0)}, export_jobs=JOB_SETTINGS) as emu:
        config = {key: value for key, value in a_config(emu, "jobs").items() if key != "export_job_requests_per_second"}
        messages = run(
            tmp_path, "read", config=config, catalog=a_catalog(["email_send", "purchase", "sms_send"], "incremental")
        )
        calls = [r for r in emu.requests if r.path.startswith("/api/export/") and r.path != "/api/export/data.json"]
        assert len(records_by_stream(messages)["email_send"]) == len(emu.dataset.events["emailSend"])
        assert len(calls) >= 9  # 3 starts and at least 2 listings per job
        assert [r.status for r in calls if r.status == 429] == []
