"""The source's `read` with export jobs: the path chosen per stream, one job for a jobs stream's whole range, the
same records and state as the synchronous path, on requests-mock (fake job API and file host in job_api.py)."""

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import requests_mock
from airbyte_cdk.test.state_builder import StateBuilder

from unit_tests.export.job_api import FakeClock, FakeJobApi, Step
from unit_tests.mock_server.export_api import ExportApi, an_event
from unit_tests.mock_server.test_exports import export_config, states, sync

EVENTS = [an_event("2025-01-05T10:00:00Z", 1), an_event("2025-02-10T11:00:00Z", 2, transactionalData='{"a": 1}')]


def jobs_config(**extra: Any) -> dict[str, Any]:
    return export_config(export_job_requests_per_second=1000, **extra)


@pytest.fixture
def apis() -> Iterator[tuple[ExportApi, FakeJobApi]]:
    with requests_mock.Mocker() as mocker:
        yield ExportApi().install(mocker), FakeJobApi(FakeClock()).install(mocker)


def test_a_stream_on_export_jobs_reads_its_whole_range_with_one_job(apis: tuple[ExportApi, FakeJobApi]) -> None:
    data_json, jobs = apis
    jobs.plan([("f1", b"".join(orjson.dumps(event) + b"\n" for event in EVENTS))], Step("Completed", 1))
    output = sync(["email_send"], jobs_config(export_mode="jobs", window_days=30))
    assert data_json.requests == []
    assert [(job.body["startDateTime"], job.body["endDateTime"]) for job in jobs.jobs.values()] == [
        ("2025-01-01 00:00:00", "2025-03-01 00:00:00")
    ]
    assert sorted(record.record.data["messageId"] for record in output.records) == ["m-1", "m-2"]
    assert states(output, "email_send")[-1] == {"createdAt": "2025-03-01T00:00:00Z"}


def test_a_record_is_identical_whichever_path_read_it(apis: tuple[ExportApi, FakeJobApi]) -> None:
    data_json, jobs = apis
    data_json.add("emailSend", *EVENTS)
    jobs.plan([("f1", b"".join(orjson.dumps(event) + b"\n" for event in EVENTS))], Step("Completed", 1))
    through_sync = sync(["email_send"], jobs_config(export_mode="sync"))
    through_jobs = sync(["email_send"], jobs_config(export_mode="jobs"))
    assert sorted(orjson.dumps(r.record.data, option=orjson.OPT_SORT_KEYS) for r in through_jobs.records) == sorted(
        orjson.dumps(r.record.data, option=orjson.OPT_SORT_KEYS) for r in through_sync.records
    )
    assert states(through_jobs, "email_send")[-1] == states(through_sync, "email_send")[-1]


def test_in_auto_a_short_incremental_range_keeps_data_json(apis: tuple[ExportApi, FakeJobApi]) -> None:
    data_json, jobs = apis
    state = StateBuilder().with_stream_state("email_send", {"createdAt": "2025-02-27T00:00:00Z"}).build()
    sync(["email_send"], jobs_config(export_requests_per_minute=4), state)
    assert jobs.log == []
    assert data_json.requests == [("emailSend", "2025-02-27 00:00:00", "2025-03-01 00:00:00")]


def test_without_export_mode_a_backfill_at_iterables_pace_uses_jobs(apis: tuple[ExportApi, FakeJobApi]) -> None:
    data_json, jobs = apis
    for _ in range(3):
        jobs.plan([("f1", b"")], Step("Completed", 0))
    config = jobs_config(end_date="2026-01-01T00:00:00Z", export_requests_per_minute=4)
    sync(["email_send", "email_open", "purchase"], config)
    assert data_json.requests == []
    assert sorted(job.body["dataTypeName"] for job in jobs.jobs.values()) == ["emailOpen", "emailSend", "purchase"]
