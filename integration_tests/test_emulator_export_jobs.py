"""The emulator's export jobs: Iterable's shapes, the simulated timeline, the file host, the limits, the faults.

Time is an injected clock (`Clock`), so every timeline assertion is exact and no test sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from integration_tests.emulator import Dataset, Emulator, ExportJobSettings, faults, scaled_rate_limits
from integration_tests.emulator.dataset import DATA_TYPES

JSONL = "application/x-json-stream"
YEAR = {"startDateTime": "2025-01-01 00:00:00", "endDateTime": "2026-01-01 00:00:00"}
# Small files so the small data set spans several: emailSend's 12 records make 4 files.
SETTINGS = ExportJobSettings(
    file_bytes=1500, files_page_size=100, queue_seconds=1, startup_seconds=2, seconds_per_file=2
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Jobs:
    """A thin client of the emulator's job API, with the clock the emulator runs on."""

    def __init__(self, emu: Emulator, clock: Clock) -> None:
        self.emu, self.clock = emu, clock
        self.headers = {"Api-Key": emu.api_key}

    def post_start(self, body: Any, key: str | None = None) -> requests.Response:
        headers = {"Api-Key": key or self.emu.api_key}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return requests.post(f"{self.emu.url}/api/export/start", data=data, headers=headers, timeout=10)

    def start(self, data_type: str = "emailSend", output_format: str = JSONL, **fields: str) -> int:
        response = self.post_start({"dataTypeName": data_type, "outputFormat": output_format, **(fields or YEAR)})
        assert response.status_code == 200, response.text
        return response.json()["jobId"]

    def files_response(self, job_id: int | str, **params: str) -> requests.Response:
        return requests.get(
            f"{self.emu.url}/api/export/{job_id}/files", params=params, headers=self.headers, timeout=10
        )

    def files(self, job_id: int, **params: str) -> dict[str, Any]:
        response = self.files_response(job_id, **params)
        assert response.status_code == 200, response.text
        return response.json()

    def at(self, seconds: float, job_id: int) -> dict[str, Any]:
        self.clock.now = seconds
        return self.files(job_id)

    def cancel(self, job_id: int | str) -> requests.Response:
        return requests.delete(f"{self.emu.url}/api/export/{job_id}", headers=self.headers, timeout=10)

    def list(self, **params: str) -> requests.Response:
        return requests.get(f"{self.emu.url}/api/export/jobs", params=params, headers=self.headers, timeout=10)

    def download(self, url: str) -> bytes:
        response = requests.get(url, timeout=10)
        assert response.status_code == 200, response.text
        return response.content

    def all_bytes(self, job_id: int) -> bytes:
        self.clock.now += 10_000
        listing = self.files(job_id)
        assert listing["jobState"] == "Completed"
        return b"".join(self.download(file["url"]) for file in listing["files"])


@pytest.fixture
def clock() -> Clock:
    return Clock()


def start_emulator(clock: Clock, settings: ExportJobSettings = SETTINGS, **options: Any) -> Emulator:
    options.setdefault("rate_limits", {})
    return Emulator(Dataset(seed=7), clock=clock, export_jobs=settings, **options)


@pytest.fixture
def jobs(clock: Clock) -> Iterator[Jobs]:
    with start_emulator(clock) as emu:
        yield Jobs(emu, clock)


def data_json(emu: Emulator, data_type: str, **window: str) -> bytes:
    response = requests.get(
        f"{emu.url}/api/export/data.json",
        params={"dataTypeName": data_type, **window},
        headers={"Api-Key": emu.api_key},
        timeout=10,
    )
    assert response.status_code == 200
    return response.content


# ---------------------------------------------------------------- the timeline
def test_a_job_is_enqueued_then_running_then_lists_one_more_file_every_step_then_completed(jobs):
    job_id = jobs.start()
    timeline = [(t, jobs.at(t, job_id)) for t in (0.0, 0.99, 1.0, 2.99, 3.0, 5.0, 7.0, 8.99, 9.0)]
    assert [(t, body["jobState"], len(body["files"])) for t, body in timeline] == [
        (0.0, "Enqueued", 0),
        (0.99, "Enqueued", 0),
        (1.0, "Running", 0),
        (2.99, "Running", 0),
        (3.0, "Running", 1),
        (5.0, "Running", 2),
        (7.0, "Running", 3),
        (8.99, "Running", 3),
        (9.0, "Completed", 4),
    ]


def test_the_job_view_tells_when_it_started_each_file_was_ready_and_it_ended(jobs):
    job_id = jobs.start()
    assert [(view.state, view.started_at, view.ends_at) for view in jobs.emu.jobs()] == [("Enqueued", None, None)]
    jobs.download(jobs.at(3.0, job_id)["files"][0]["url"])
    view = jobs.emu.jobs()[0]
    assert (view.started_at, view.files_ready_at, view.ends_at) == (1.0, (3.0, 5.0, 7.0, 9.0), 9.0)
    assert [request.emulator_time for request in jobs.emu.file_host_requests] == [3.0]


def test_a_listing_has_iterables_shape(jobs):
    job_id = jobs.start()
    body = jobs.at(3.0, job_id)
    assert set(body) == {"jobId", "jobState", "exportTruncated", "files"}
    assert body["jobId"] == job_id and body["exportTruncated"] is False
    assert [set(file) for file in body["files"]] == [{"file", "url"}]
    assert body["files"][0]["file"] == f"emailSend_{job_id}_00000.json"


def test_durations_are_multiplied_by_the_time_scale(clock):
    settings = ExportJobSettings(file_bytes=1500, time_scale=0.01)
    with start_emulator(clock, settings) as emu:
        client = Jobs(emu, clock)
        job_id = client.start()
        assert client.at(0.0299, job_id)["files"] == []
        assert len(client.at(0.03, job_id)["files"]) == 1
        assert client.at(0.09, job_id)["jobState"] == "Completed"


def test_job_states_can_be_served_lowercase(clock):
    with start_emulator(clock, ExportJobSettings(state_spelling="lower")) as emu:
        client = Jobs(emu, clock)
        job_id = client.start()
        states = [client.at(t, job_id)["jobState"] for t in (0.0, 1.0, 100.0)]
        assert states == ["enqueued", "running", "completed"]
        assert client.list().json()["jobs"][0]["jobState"] == "completed"


# ---------------------------------------------------------------- the records
@pytest.mark.parametrize("data_type", ["emailSend", "user", "purchase"])
def test_a_jobs_files_hold_exactly_the_data_json_body_for_the_same_range(jobs, data_type):
    window = {"startDateTime": "2025-02-01 00:00:00", "endDateTime": "2025-11-01 00:00:00 +00:00"}
    expected = data_json(jobs.emu, data_type, **window)
    assert expected.count(b"\n") > 2
    assert jobs.all_bytes(jobs.start(data_type, **window)) == expected


def test_every_export_type_can_be_exported_by_a_job(jobs):
    for data_type in [*DATA_TYPES, "user"]:
        assert jobs.all_bytes(jobs.start(data_type)) == data_json(jobs.emu, data_type, **YEAR), data_type


def test_a_job_includes_its_start_and_excludes_its_end(jobs):
    record = json.loads(data_json(jobs.emu, "emailSend", **YEAR).splitlines()[0])
    created = record["createdAt"][:19]
    starting = jobs.all_bytes(jobs.start(startDateTime=created, endDateTime="2026-01-01 00:00:00"))
    ending = jobs.all_bytes(jobs.start(startDateTime="2025-01-01 00:00:00", endDateTime=created))
    assert record in [json.loads(line) for line in starting.splitlines()]
    assert record not in [json.loads(line) for line in ending.splitlines()]


def test_files_are_at_most_file_bytes_cut_at_line_ends_and_sort_in_order(jobs):
    job_id = jobs.start()
    jobs.clock.now = 100
    files = jobs.files(job_id)["files"]
    bodies = [jobs.download(file["url"]) for file in files]
    assert len(files) == 4
    assert all(len(body) <= 1500 and body.endswith(b"\n") for body in bodies)
    assert [file["file"] for file in files] == sorted(file["file"] for file in files)
    assert b"".join(bodies) == data_json(jobs.emu, "emailSend", **YEAR)


def test_a_range_without_records_completes_with_no_files(jobs):
    job_id = jobs.start(startDateTime="2024-01-01 00:00:00", endDateTime="2024-02-01 00:00:00")
    assert jobs.at(3.0, job_id) == {"jobId": job_id, "jobState": "Completed", "exportTruncated": False, "files": []}


def test_only_fields_and_omit_fields_apply_to_the_files(jobs):
    job_id = jobs.start(onlyFields="createdAt,email,messageId", omitFields="email", **YEAR)
    records = [json.loads(line) for line in jobs.all_bytes(job_id).splitlines()]
    assert len(records) == 12 and all(set(record) == {"createdAt", "messageId"} for record in records)


def test_csv_output_has_a_header_of_every_field_then_one_row_per_record(jobs):
    text = jobs.all_bytes(jobs.start(output_format="text/csv")).decode()
    rows = text.splitlines()
    records = [json.loads(line) for line in data_json(jobs.emu, "emailSend", **YEAR).splitlines()]
    assert rows[0].split(",") == sorted({key for record in records for key in record})
    assert len(rows) == 1 + len(records)


# ---------------------------------------------------------------- paging, errors
def test_files_page_with_start_after_the_last_file_name(clock):
    with start_emulator(clock, ExportJobSettings(file_bytes=1500, files_page_size=3)) as emu:
        client = Jobs(emu, clock)
        job_id = client.start()
        clock.now = 100
        first = client.files(job_id)["files"]
        second = client.files(job_id, startAfter=first[-1]["file"])["files"]
        last = client.files(job_id, startAfter=second[-1]["file"])["files"]
        names = [file["file"] for file in first + second]
        assert names == [f"emailSend_{job_id}_{index:05d}.json" for index in range(4)]
        assert (len(first), len(second), last) == (3, 1, [])


def test_an_unknown_job_is_404_not_found(jobs):
    response = jobs.files_response(999)
    assert response.status_code == 404
    assert response.json() == {"msg": "Export job 999 not found", "code": "NotFound", "params": None}


def test_a_job_id_that_is_not_a_number_is_400(jobs):
    response = jobs.files_response("abc")
    assert response.status_code == 400
    assert response.json() == {"msg": "Invalid jobId: abc. Expected an integer", "code": "BadParams", "params": None}


@pytest.mark.parametrize(
    "body, code, msg",
    [
        pytest.param(
            {"dataTypeName": "emailSent", "outputFormat": JSONL},
            "BadParams",
            "Invalid dataTypeName: emailSent",
            id="unknown-data-type",
        ),
        pytest.param(
            {"outputFormat": JSONL}, "BadParams", "Missing required parameter dataTypeName", id="missing-data-type"
        ),
        pytest.param(
            {"dataTypeName": "emailSend"},
            "BadParams",
            "Missing required parameter outputFormat",
            id="missing-output-format",
        ),
        pytest.param(
            {"dataTypeName": "emailSend", "outputFormat": "application/json"},
            "BadParams",
            "Invalid outputFormat: application/json. Expected one of text/csv, application/x-json-stream",
            id="bad-output-format",
        ),
        pytest.param(
            {"dataTypeName": "emailSend", "outputFormat": JSONL, "startDateTime": "2025-01-01T00:00:00Z"},
            "BadParams",
            "Invalid startDateTime: '2025-01-01T00:00:00Z'. Expected format: yyyy-MM-dd HH:mm:ss"
            " or yyyy-MM-dd HH:mm:ss ZZ (e.g. 2025-01-15 10:30:00 +00:00)",
            id="bad-date",
        ),
        pytest.param(
            {"dataTypeName": "emailSend", "outputFormat": JSONL, "onlyFields": ["email"]},
            "BadJsonBody",
            "Invalid onlyFields: expected a string",
            id="fields-not-a-string",
        ),
        pytest.param(b"{not json", "BadJsonBody", "Could not parse request body as JSON", id="not-json"),
        pytest.param([], "BadJsonBody", "Request body must be a JSON object", id="not-an-object"),
    ],
)
def test_a_bad_start_request_gets_400_with_iterables_error_body(jobs, body, code, msg):
    response = jobs.post_start(body)
    assert response.status_code == 400
    assert response.json() == {"msg": msg, "code": code, "params": None}
    assert jobs.emu.jobs() == []


def test_a_read_only_key_cannot_start_an_export_job(jobs):
    response = jobs.post_start({"dataTypeName": "emailSend", "outputFormat": JSONL}, key=jobs.emu.read_only_key)
    assert response.status_code == 401 and response.json()["code"] == "BadApiKey"


# ---------------------------------------------------------------- cancel and list
def test_cancel_stops_a_running_job_and_keeps_the_files_listed_so_far(jobs):
    job_id = jobs.start()
    jobs.clock.now = 3.0
    response = jobs.cancel(job_id)
    assert response.status_code == 200
    assert response.json() == {"msg": f"Cancelled export job {job_id}", "code": "Success", "params": None}
    later = jobs.at(100.0, job_id)
    assert (later["jobState"], len(later["files"])) == ("Cancelled", 1)


def test_a_finished_job_cannot_be_cancelled(jobs):
    job_id = jobs.start()
    jobs.clock.now = 100.0
    response = jobs.cancel(job_id)
    assert response.status_code == 400
    assert response.json()["msg"] == f"Export job {job_id} has already finished (Completed) and cannot be cancelled"


def test_cancelling_an_unknown_job_is_404(jobs):
    assert jobs.cancel(12345).status_code == 404


def test_the_job_list_is_newest_first_and_filters_by_state_without_case(jobs):
    first = jobs.start()
    jobs.clock.now = 20.0
    second = jobs.start()
    listed = jobs.list().json()["jobs"]
    assert [(job["id"], job["jobState"], job["dataTypeName"]) for job in listed] == [
        (second, "Enqueued", "emailSend"),
        (first, "Completed", "emailSend"),
    ]
    assert listed[1]["bytesExported"] == len(data_json(jobs.emu, "emailSend", **YEAR))
    assert "endTime" in listed[1] and "endTime" not in listed[0]
    assert [job["id"] for job in jobs.list(jobState="completed").json()["jobs"]] == [first]


# ---------------------------------------------------------------- limits
def test_job_calls_share_one_request_per_second_and_a_429_says_when_to_retry(clock):
    with start_emulator(clock, rate_limits=None) as emu:
        client = Jobs(emu, clock)
        clock.now = 10.0
        job_id = client.start()
        clock.now = 10.5
        refused = [client.files_response(job_id), client.list(), client.cancel(job_id), client.post_start({})]
        assert [response.status_code for response in refused] == [429, 429, 429, 429]
        assert refused[0].headers["Retry-After"] == "1"
        assert refused[0].json() == {
            "msg": f"Exceeded rate limit for endpoint: /api/export/{job_id}/files, project: 8575",
            "code": "RateLimitExceeded",
            "params": {},
        }
        clock.now = 11.001  # strict window: a call exactly 1 s after the last is still inside it
        assert client.files_response(job_id).status_code == 200
        assert client.list().status_code == 429


def test_the_job_limit_is_configurable_like_the_others(clock):
    with start_emulator(clock, rate_limits={"export_jobs": (3, 1)}) as emu:
        client = Jobs(emu, clock)
        job_id = client.start()
        assert [client.files_response(job_id).status_code for _ in range(3)] == [200, 200, 429]


def test_scaled_rate_limits_shorten_every_window_by_the_factor(clock):
    limits = scaled_rate_limits(10)
    assert (limits["export"], limits["export_jobs"]) == ((4, 6.0), (1, 0.1))
    with start_emulator(clock, rate_limits=limits) as emu:
        client = Jobs(emu, clock)
        job_id = client.start()
        clock.now = 0.09
        assert client.files_response(job_id).status_code == 429
        clock.now = 0.101  # strict window: exactly 0.1 s later is still inside it
        assert client.files_response(job_id).status_code == 200


def test_at_most_four_jobs_run_and_the_fifth_waits_for_a_free_slot(jobs):
    job_ids = [jobs.start() for _ in range(5)]
    jobs.clock.now = 1.0
    assert [view.state for view in jobs.emu.jobs()] == ["Running"] * 4 + ["Enqueued"]
    jobs.clock.now = 8.99
    assert jobs.emu.jobs()[4].state == "Enqueued"
    jobs.clock.now = 9.0
    assert [view.state for view in jobs.emu.jobs()] == ["Completed"] * 4 + ["Running"]
    assert jobs.at(17.0, job_ids[4])["jobState"] == "Completed"
    assert jobs.emu.export_jobs.peak_running == 4


def test_a_cancelled_job_frees_its_slot_at_once(jobs):
    job_ids = [jobs.start() for _ in range(5)]
    jobs.clock.now = 2.0
    assert jobs.cancel(job_ids[0]).status_code == 200
    assert [view.state for view in jobs.emu.jobs()] == ["Cancelled", "Running", "Running", "Running", "Running"]


# ---------------------------------------------------------------- the file host
def test_files_are_served_by_a_second_loopback_host(jobs):
    job_id = jobs.start()
    url = jobs.at(3.0, job_id)["files"][0]["url"]
    assert url.startswith(jobs.emu.file_host_url + f"/{job_id}/") and not url.startswith(jobs.emu.url)
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"] == JSONL
    assert [(r.path, r.api_key_header, r.status) for r in jobs.emu.file_host_requests] == [
        (f"/{job_id}/emailSend_{job_id}_00000.json", False, 200)
    ]


def test_a_file_request_carrying_an_api_key_is_refused_and_recorded(jobs):
    url = jobs.at(3.0, jobs.start())["files"][0]["url"]
    response = requests.get(url, headers={"Api-Key": "anything"}, timeout=10)
    assert response.status_code == 403 and b"<Code>AccessDenied</Code>" in response.content
    assert [(r.api_key_header, r.key_seen, r.status) for r in jobs.emu.file_host_requests] == [(True, False, 403)]
    requests.get(url, headers={"api-key": jobs.emu.api_key}, timeout=10)
    assert [(r.api_key_header, r.key_seen) for r in jobs.emu.file_host_requests][1] == (True, True)
    assert jobs.emu.export_jobs.counters["file_requests_with_api_key"] == 2


def test_a_file_url_past_its_expiry_is_403_request_has_expired_and_a_fresh_listing_serves_it(jobs):
    job_id = jobs.start()
    url = jobs.at(3.0, job_id)["files"][0]["url"]
    jobs.clock.now = 3.0 + 1800
    expired = requests.get(url, timeout=10)
    assert expired.status_code == 403
    assert b"<Code>AccessDenied</Code><Message>Request has expired</Message><Expires>1803.000</Expires>" in (
        expired.content
    )
    fresh = jobs.files(job_id)["files"][0]["url"]
    assert jobs.download(fresh).count(b"\n") > 0


def test_a_tampered_file_url_is_403_signature_does_not_match(jobs):
    url = jobs.at(3.0, jobs.start())["files"][0]["url"]
    tampered = url.replace("Expires=1803.000", "Expires=9999.000")
    response = requests.get(tampered, timeout=10)
    assert response.status_code == 403 and b"<Code>SignatureDoesNotMatch</Code>" in response.content


# ---------------------------------------------------------------- faults
def test_a_failed_job_fault_fails_the_first_matching_start_only(jobs):
    jobs.emu.inject(faults.failed_job(after_files=1, match={"dataTypeName": "emailSend"}))
    other = jobs.start("emailOpen")
    failed, retried = jobs.start(), jobs.start()
    states = {job_id: jobs.at(100.0, job_id) for job_id in (other, failed, retried)}
    assert [(states[j]["jobState"], len(states[j]["files"])) for j in (other, failed, retried)] == [
        ("Completed", 4),
        ("Failed", 1),
        ("Completed", 4),
    ]


def test_a_failed_job_fails_when_its_next_file_was_due(jobs):
    jobs.emu.inject(faults.failed_job(after_files=1))
    job_id = jobs.start()
    assert [jobs.at(t, job_id)["jobState"] for t in (3.0, 4.99, 5.0)] == ["Running", "Running", "Failed"]


def test_a_truncated_export_keeps_its_first_files_and_halving_the_range_resolves_it(jobs):
    jobs.emu.inject(faults.truncated_export(longer_than_days=200, keep_files=1))
    whole = jobs.start()
    halves = [
        jobs.start(startDateTime="2025-01-01 00:00:00", endDateTime="2025-07-02 00:00:00"),
        jobs.start(startDateTime="2025-07-02 00:00:00", endDateTime="2026-01-01 00:00:00"),
    ]
    running, done = jobs.at(2.99, whole), jobs.at(100.0, whole)
    assert (running["jobState"], running["exportTruncated"]) == ("Running", False)
    assert (done["jobState"], done["exportTruncated"]) == ("Completed", True)
    assert len(jobs.files(whole)["files"]) == 1
    assert [jobs.files(half)["exportTruncated"] for half in halves] == [False, False]
    union = sorted(b"".join(jobs.all_bytes(half) for half in halves).splitlines())
    assert union == sorted(data_json(jobs.emu, "emailSend", **YEAR).splitlines())


def test_a_restarted_job_goes_back_to_enqueued_once_and_keeps_its_files(jobs):
    jobs.emu.inject(faults.restarted_job(after_files=1, seconds=5))
    job_id = jobs.start()
    timeline = [
        (jobs.at(t, job_id)["jobState"], len(jobs.files(job_id)["files"])) for t in (3.0, 4.0, 8.99, 9.0, 10.0, 14.0)
    ]
    assert timeline == [
        ("Running", 1),
        ("Enqueued", 1),
        ("Enqueued", 1),
        ("Running", 1),
        ("Running", 2),
        ("Completed", 4),
    ]


def test_file_drop_mid_body_cuts_one_download_after_n_lines(jobs):
    jobs.emu.inject(faults.file_drop_mid_body(after_lines=2, match={"dataTypeName": "emailSend"}))
    url = jobs.at(3.0, jobs.start())["files"][0]["url"]
    response = requests.get(url, stream=True, timeout=10)
    chunks: list[bytes] = []
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        chunks.extend(response.iter_content(64))
    received = b"".join(chunks)
    complete = jobs.download(url)
    assert bytes(received).count(b"\n") == 2 and complete.startswith(bytes(received))
    assert len(received) < len(complete)


def test_expiring_urls_expire_for_the_next_listing_only(jobs):
    job_id = jobs.start()
    jobs.clock.now = 3.0
    jobs.emu.inject(faults.expiring_urls(seconds=0))
    expired_url = jobs.files(job_id)["files"][0]["url"]
    fresh_url = jobs.files(job_id)["files"][0]["url"]
    assert requests.get(expired_url, timeout=10).status_code == 403
    assert requests.get(fresh_url, timeout=10).status_code == 200


def test_expiring_urls_after_n_seconds(jobs):
    job_id = jobs.start()
    jobs.clock.now = 3.0
    jobs.emu.inject(faults.expiring_urls(seconds=30))
    url = jobs.files(job_id)["files"][0]["url"]
    jobs.clock.now = 32.99
    assert requests.get(url, timeout=10).status_code == 200
    jobs.clock.now = 33.0
    assert requests.get(url, timeout=10).status_code == 403


def test_job_faults_can_be_injected_through_the_control_endpoint(jobs):
    spec = {"fault": "failed_job", "match": {"dataTypeName": "emailSend"}}
    injected = requests.post(f"{jobs.emu.url}/_emulator/faults", json=spec, timeout=10)
    assert injected.json() == {
        "injected": "failed_job",
        "path": "/api/export/start",
        "match": {"dataTypeName": "emailSend"},
    }
    assert jobs.at(100.0, jobs.start())["jobState"] == "Failed"


def test_control_endpoints_list_jobs_and_file_host_requests(jobs):
    job_id = jobs.start()
    jobs.download(jobs.at(3.0, job_id)["files"][0]["url"])
    listed = requests.get(f"{jobs.emu.url}/_emulator/jobs", timeout=10).json()
    logged = requests.get(f"{jobs.emu.url}/_emulator/file-host-requests", timeout=10).json()
    assert [(job["id"], job["state"], job["files_listed"]) for job in listed] == [(job_id, "Running", 1)]
    assert logged == [
        {
            "method": "GET",
            "path": f"/{job_id}/emailSend_{job_id}_00000.json",
            "api_key_header": False,
            "key_seen": False,
            "status": 200,
        }
    ]
