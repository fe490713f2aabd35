"""JobRangeReader, JobApiClient and FileFetcher against a fake job API and file host (job_api.py), on a fake clock."""

import io
import itertools
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests_mock
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.bounds import RETRY_AFTER_CAP_SECONDS
from source_iterable.export.jobs.client import JobApiClient
from source_iterable.export.jobs.files import DownloadTooSlow, FileFetcher, FileUnreadable
from source_iterable.export.jobs.reader import JobRangeReader
from source_iterable.export.jobs.tracker import StartedJobs
from source_iterable.export.jsonl import StrictJsonlDecoder
from source_iterable.export.orchestrator import ExportOrchestrator, JobServices
from source_iterable.export.pacing import JOB_CALL_SPACING, JobCallBudget
from source_iterable.export.reading import WindowDone
from source_iterable.export.records import ExportRecords
from source_iterable.export.window import Window
from unit_tests.export.job_api import API, FakeClock, FakeJobApi, Step, lines

KEY = "secret-server-key-123"
YEAR: Window = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC))


def event(number: int) -> dict[str, Any]:
    return {"messageId": f"m-{number}", "createdAt": "2025-02-03 04:05:06 +00:00"}


def events(*numbers: int) -> bytes:
    return lines(*(event(number) for number in numbers))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(clock: FakeClock) -> Iterator[FakeJobApi]:
    with requests_mock.Mocker() as mocker:
        yield FakeJobApi(clock).install(mocker)


@pytest.fixture
def started() -> StartedJobs:
    return StartedJobs()


def a_client(clock: FakeClock) -> JobApiClient:
    budget = JobCallBudget(gap=JOB_CALL_SPACING, clock=clock, sleep=clock.sleep)
    return JobApiClient(api_base=API, api_key=KEY, budget=budget, sleep=clock.sleep)


def a_reader(
    clock: FakeClock, started: StartedJobs, slots: threading.Semaphore | None = None, client: JobApiClient | None = None
) -> JobRangeReader:
    return JobRangeReader(
        stream="email_send",
        data_type="emailSend",
        client=client or a_client(clock),
        fetcher=FileFetcher(),
        slots=slots or threading.Semaphore(4),
        records_of=StrictJsonlDecoder(parameters={}).decode,
        started_jobs=started,
        clock=clock,
        sleep=clock.sleep,
    )


class Recorder:
    def __init__(self) -> None:
        self.overlaps = 0
        self.fallbacks: list[Window] = []

    def on_overlap(self) -> None:
        self.overlaps += 1

    def fallback(self, window: Window) -> Iterator[dict[str, Any]]:
        self.fallbacks.append(window)
        yield {"messageId": "from-data-json"}


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["messageId"] for record in records]


def test_a_job_is_started_for_the_range_as_json_lines_with_start_inclusive_and_end_exclusive(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1))], Step("Completed", 1))
    list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert api.jobs[100].body == {
        "dataTypeName": "emailSend",
        "outputFormat": "application/x-json-stream",
        "startDateTime": "2025-01-01 00:00:00",
        "endDateTime": "2026-01-01 00:00:00",
    }


def test_files_are_read_while_the_job_runs_and_listed_with_start_after(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan(
        [("f1", events(1, 2)), ("f2", events(3)), ("f3", events(4))],
        Step("Enqueued", 0),
        Step("Running", 1),
        Step("Running", 2),
        Step("Completed", 3),
    )
    records = list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert ids(records) == ["m-1", "m-2", "m-3", "m-4"]
    assert api.wire == [
        "POST /api/export/start",
        "GET /api/export/100/files",
        "GET /api/export/100/files",
        "FILE f1",
        "GET /api/export/100/files?startAfter=f1",
        "FILE f2",
        "GET /api/export/100/files?startAfter=f2",
        "FILE f3",
        "GET /api/export/100/files?startAfter=f3",
    ]


def test_an_empty_listing_of_a_running_job_is_polled_again_with_a_growing_delay(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1))], Step("Enqueued", 0), Step("Running", 0), Step("Running", 0), Step("Completed", 1))
    list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    listings = [moment for moment, verb, path in api.log if "/files" in path]
    assert [round(later - earlier, 1) for earlier, later in itertools.pairwise(listings)] == [
        2.0,
        4.0,
        8.0,
        1.1,
    ]  # after new files: at once (the budget)


def test_job_states_are_compared_without_case_and_running_may_return_to_enqueued(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan(
        [("f1", events(1)), ("f2", events(2))],
        Step("RUNNING", 1),
        Step("enqueued", 1),
        Step("running", 2),
        Step("COMPLETED", 2),
    )
    records = list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert ids(records) == ["m-1", "m-2"]
    assert started.ids() == []


def test_no_two_job_api_calls_are_sent_within_one_second(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    client = a_client(clock)
    for _ in range(3):
        api.plan([("f1", events(1)), ("f2", events(2)), ("f3", events(3))], Step("Running", 1), Step("Completed", 3))
    for _ in range(3):
        list(a_reader(clock, started, client=client).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    times = [moment for moment, _, _ in api.log]
    assert len(times) == 3 * 4
    assert min(later - earlier for earlier, later in itertools.pairwise(times)) >= 1.0


def test_a_429_on_a_job_call_waits_retry_after_capped_then_asks_again(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1))], Step("Completed", 1))
    api.rate_limited_next = ["5", "86400"]
    list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    starts = [moment for moment, verb, _ in api.log if verb == "POST"]
    assert len(starts) == 3
    assert starts[1] - starts[0] == pytest.approx(5.0)
    assert starts[2] - starts[1] == pytest.approx(RETRY_AFTER_CAP_SECONDS)


def test_the_api_key_is_never_sent_to_the_file_host(api: FakeJobApi, clock: FakeClock, started: StartedJobs) -> None:
    api.plan([("f1", events(1)), ("f2", events(2))], Step("Completed", 2))
    list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert len(api.file_requests) == 2
    assert [request.headers.get("Api-Key") for request in api.file_requests] == [None, None]
    assert all(KEY not in str(dict(request.headers)) and KEY not in request.url for request in api.file_requests)


def test_an_expired_file_url_lists_the_files_again_from_the_last_file_fully_read(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1)), ("f2", events(2)), ("f3", events(3))], Step("Completed", 3))
    api.expire_first_url = {"f2"}
    records = list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert ids(records) == ["m-1", "m-2", "m-3"]
    assert api.wire == [
        "POST /api/export/start",
        "GET /api/export/100/files",
        "FILE f1",
        "FILE f2",  # 403 Request has expired
        "GET /api/export/100/files?startAfter=f1",
        "FILE f2",
        "FILE f3",
        "GET /api/export/100/files?startAfter=f3",
    ]


def test_a_file_cut_mid_body_is_read_again_without_repeating_its_records(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(*range(1, 7)))], Step("Completed", 1))
    api.cut_once = {"f1"}
    recorder = Recorder()
    records = list(a_reader(clock, started).read(YEAR, recorder.on_overlap, recorder.fallback))
    assert ids(records) == [f"m-{number}" for number in range(1, 7)]
    assert api.wire.count("FILE f1") == 2
    assert recorder.overlaps == 0


def test_a_truncated_export_is_exported_again_in_halves_after_announcing_the_overlap(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1))], Step("Completed", 1, truncated=True))
    api.plan([("f1", events(1))], Step("Completed", 1))
    api.plan([("f1", events(2))], Step("Completed", 1))
    recorder = Recorder()
    records = list(a_reader(clock, started).read(YEAR, recorder.on_overlap, recorder.fallback))
    assert ids(records) == ["m-1", "m-1", "m-2"]  # the caller de-duplicates after the overlap
    assert recorder.overlaps == 1
    assert [(job.body["startDateTime"], job.body["endDateTime"]) for job in api.jobs.values()] == [
        ("2025-01-01 00:00:00", "2026-01-01 00:00:00"),
        ("2025-01-01 00:00:00", "2025-07-02 12:00:00"),
        ("2025-07-02 12:00:00", "2026-01-01 00:00:00"),
    ]


def test_a_failed_job_is_started_again_then_its_range_falls_back_to_data_json(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    for _ in range(3):
        api.plan([("f1", events(1))], Step("Running", 1), Step("Failed", 1))
    recorder = Recorder()
    records = list(a_reader(clock, started).read(YEAR, recorder.on_overlap, recorder.fallback))
    assert ids(records) == ["m-1", "m-1", "m-1", "from-data-json"]
    assert recorder.fallbacks == [YEAR]
    assert recorder.overlaps == 3
    assert len(api.calls("POST", "/start")) == 3
    assert api.calls("DELETE", "/export") == []


def test_a_failed_sync_cancels_the_job_it_started_and_no_other(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1)), ("f2", events(2))], Step("Running", 1))
    generator = a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback)
    next(generator)
    generator.close()  # the consumer stopped: the sync failed elsewhere
    assert api.calls("DELETE", "/export") == ["/api/export/100"]
    assert started.ids() == []


def test_no_more_than_the_allowed_jobs_are_started_and_not_fully_read(clock: FakeClock, started: StartedJobs) -> None:
    """Five ranges, two slots: jobs stay Running (no file) until released; meanwhile exactly two were started."""
    release = threading.Event()

    class HeldApi(FakeJobApi):
        def _files(self, request: Any, context: Any) -> Any:
            answer = super()._files(request, context)
            if not release.is_set():
                return {**answer, "jobState": "Running", "files": []}
            return answer

    with requests_mock.Mocker() as mocker:
        api = HeldApi(clock).install(mocker)
        for _ in range(5):
            api.plan([("f1", events(1))], Step("Completed", 1))
        client = JobApiClient(api_base=API, api_key=KEY, budget=JobCallBudget(gap=0.0), sleep=lambda _: None)
        slots = threading.Semaphore(2)

        def read_one() -> None:
            reader = JobRangeReader(
                stream="email_send",
                data_type="emailSend",
                client=client,
                fetcher=FileFetcher(),
                slots=slots,
                records_of=StrictJsonlDecoder(parameters={}).decode,
                started_jobs=started,
                sleep=lambda _: time.sleep(0.005),
            )
            list(reader.read(YEAR, lambda: None, Recorder().fallback))

        threads = [threading.Thread(target=read_one) for _ in range(5)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while len(api.jobs) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # time enough for a third start, were it allowed
        started_while_held = len(api.jobs)
        release.set()
        for thread in threads:
            thread.join(10)
    assert started_while_held == 2
    assert len(api.jobs) == 5


def test_a_file_url_over_plain_http_to_another_host_is_refused(clock: FakeClock) -> None:
    with pytest.raises(AirbyteTracedException, match="not https"):
        FileFetcher().get("http://files.example.com/export/f1")


def test_a_file_with_a_line_that_is_not_json_fails_the_range_and_cancels_the_running_job(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1) + b"{not json\n" + events(2)), ("f2", events(3))], Step("Running", 1))
    with pytest.raises(AirbyteTracedException, match="line 2 that is not a JSON object"):
        list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert api.calls("DELETE", "/export") == ["/api/export/100"]
    assert started.ids() == []


def test_a_redirect_from_the_file_host_is_not_followed() -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get("https://files.example.com/f1", status_code=302, headers={"Location": "https://elsewhere.example/x"})
        elsewhere = mocker.get("https://elsewhere.example/x", text="{}")
        with pytest.raises(FileUnreadable, match="HTTP 302"):
            FileFetcher().get("https://files.example.com/f1")
    assert elsewhere.call_count == 0


class FakeDataJson:
    """The synchronous path as the jobs reader sees it: a record and a checkpoint per 30 days of the range."""

    def __init__(self) -> None:
        self.ranges: list[Window] = []

    def read_range(self, window: Window, stream_slice: Any, progress: Any) -> Iterator[Any]:
        self.ranges.append(window)
        yield {"messageId": "from-data-json"}
        yield WindowDone(window)


def a_jobs_range_reader(clock: FakeClock, data_json: FakeDataJson) -> ExportOrchestrator:
    client = a_client(clock)
    return ExportOrchestrator(
        stream="email_send",
        jobs=JobServices(client=client, fetcher=FileFetcher(), slots=threading.Semaphore(4)),
        records=ExportRecords(decoder=StrictJsonlDecoder(parameters={}), config={}, stream_name="email_send"),
        data_json=data_json,
        data_type="emailSend",
        fallback_data_type="",
        clock=clock,
        sleep=clock.sleep,
    )


class Keys:
    def __init__(self) -> None:
        self.repeats_expected = False

    def expect_repeats(self) -> None:
        self.repeats_expected = True


@pytest.mark.parametrize("files, checkpoints", [(0, 1), (1, 0)], ids=["no-job-record", "after-job-records"])
def test_the_fallbacks_checkpoints_pass_only_while_no_job_record_was_emitted(
    api: FakeJobApi, clock: FakeClock, files: int, checkpoints: int
) -> None:
    for _ in range(3):
        api.plan([("f1", events(1))], Step("Running", files), Step("Failed", files))
    data_json = FakeDataJson()
    items = list(
        a_jobs_range_reader(clock, data_json).read_range(YEAR, StreamSlice(partition={}, cursor_slice={}), Keys())
    )
    assert data_json.ranges == [YEAR]
    assert sum(isinstance(item, WindowDone) for item in items) == checkpoints
    assert [item["messageId"] for item in items if isinstance(item, dict)] == ["m-1"] * 3 * files + ["from-data-json"]


def test_a_refused_job_start_is_a_config_error_that_does_not_echo_the_key(clock: FakeClock) -> None:
    with requests_mock.Mocker() as mocker:
        mocker.post(
            f"{API}/api/export/start",
            status_code=401,
            json={"msg": f"Invalid API key: {KEY}", "code": "BadApiKey", "params": None},
        )
        with pytest.raises(AirbyteTracedException) as raised:
            a_client(clock).start("emailSend", YEAR)
    assert raised.value.message == (
        "Iterable refused POST export/start (BadApiKey: Invalid API key: ****). Only a Server-side API key can use "
        "the export API; or set export_mode to sync."
    )
    assert raised.value.failure_type.value == "config_error"


def test_a_job_without_progress_is_cancelled_before_its_range_is_started_again(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    for _ in range(3):
        api.plan([("f1", events(1))], Step("Running", 0))
    reader = a_reader(clock, started)
    reader.no_progress_limit = 10.0
    recorder = Recorder()
    records = list(reader.read(YEAR, recorder.on_overlap, recorder.fallback))
    assert ids(records) == ["from-data-json"]
    assert api.calls("DELETE", "/export") == ["/api/export/100", "/api/export/101", "/api/export/102"]
    assert started.ids() == []


def test_a_job_waiting_in_one_state_says_so_every_ten_minutes(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs, caplog: pytest.LogCaptureFixture
) -> None:
    api.plan([("f1", events(1))], *[Step("Enqueued", 0)] * 45, Step("Completed", 1))
    with caplog.at_level(logging.INFO, logger="airbyte"):
        records = list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    waiting = [
        record.getMessage().split(": export job ")[1]
        for record in caplog.records
        if " is still " in record.getMessage()
    ]
    assert ids(records) == ["m-1"]
    # Listings after the first (Enqueued) one come 2, 6, 14, 30 s later, then every 30 s: 600 s and 1,200 s are
    # listings, the first at or past each ten minutes.
    assert [line.split(" after ")[1].split(" s:")[0] for line in waiting] == ["600", "1200"]


# ------------------------------------------------------------------------------------ hostile answers (issue 16)
def test_given_a_listing_that_ignores_start_after_on_a_running_job_then_the_range_falls_back_after_three_listings(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1))], Step("Running", 1))
    api.ignore_start_after = True
    recorder = Recorder()
    records = list(a_reader(clock, started).read(YEAR, recorder.on_overlap, recorder.fallback))
    assert ids(records) == ["m-1", "from-data-json"]
    assert api.wire == [
        "POST /api/export/start",
        "GET /api/export/100/files",
        "FILE f1",
        "GET /api/export/100/files?startAfter=f1",
        "GET /api/export/100/files?startAfter=f1",
        "GET /api/export/100/files?startAfter=f1",
        "DELETE /api/export/100",
    ]
    assert recorder.fallbacks == [YEAR]
    assert len(api.calls("POST", "/start")) == 1  # a broken listing is not retried with a new job


def test_given_a_listing_that_ignores_start_after_on_a_completed_job_then_no_file_is_read_twice(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1))], Step("Completed", 1))
    api.ignore_start_after = True
    records = list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert ids(records) == ["m-1"]
    assert api.wire.count("FILE f1") == 1


@pytest.mark.parametrize(
    "content_type, body, start",
    [
        pytest.param(
            "text/html",
            b"<html><body>Service unavailable</body></html>\n",
            "<html><body>Service unavailable</body></html>",
            id="html",
        ),
        pytest.param(
            "application/octet-stream",
            b"\x1f\x8b\x08\x00\x00\x00\x00\x00\n",
            "\\x1f\\x8b\\x08\\x00\\x00\\x00\\x00\\x00",
            id="gzip",
        ),
    ],
)
def test_given_a_file_that_is_not_jsonl_then_it_is_read_again_then_the_range_falls_back_naming_the_file(
    api: FakeJobApi,
    clock: FakeClock,
    started: StartedJobs,
    caplog: pytest.LogCaptureFixture,
    content_type: str,
    body: bytes,
    start: str,
) -> None:
    for _ in range(3):
        api.plan([("f1", body)], Step("Completed", 1))
    api.content_types = {"f1": content_type}
    recorder = Recorder()
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        records = list(a_reader(clock, started).read(YEAR, recorder.on_overlap, recorder.fallback))
    assert ids(records) == ["from-data-json"]
    assert api.wire.count("FILE f1") == 3 * 4  # FILE_TRIES reads per job, 3 jobs
    unreadable = next(message for message in caplog.messages if "unreadable" in message)
    assert unreadable == (
        "email_send: export job 100 [2025-01-01 00:00:00, 2026-01-01 00:00:00) file f1 unreadable (not JSONL "
        f"(Content-Type: {content_type}), starting {start!r}); listing the files again for fresh URLs."
    )


def test_given_an_empty_file_then_a_warning_names_it(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs, caplog: pytest.LogCaptureFixture
) -> None:
    api.plan([("f1", b""), ("f2", events(1))], Step("Completed", 2))
    with caplog.at_level(logging.WARNING, logger="airbyte"):
        records = list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert ids(records) == ["m-1"]
    assert [message for message in caplog.messages if "empty" in message] == [
        "email_send: export job 100 [2025-01-01 00:00:00, 2026-01-01 00:00:00) file f1 is empty (Iterable does not "
        "write empty files)."
    ]


def test_given_a_job_queued_behind_others_then_the_waiting_line_says_where_it_stands(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs, caplog: pytest.LogCaptureFixture
) -> None:
    api.plan([("f1", events(1))], *[Step("Enqueued", 0)] * 25, Step("Completed", 1))
    api.listed_jobs = [
        {"id": 97, "jobState": "Completed"},
        {"id": 98, "jobState": "Running"},
        {"id": 99, "jobState": "Enqueued"},
        {"id": 100, "jobState": "Enqueued", "scheduledStartTime": "2025-06-01T10:00:00.000-06:00"},
        {"id": 101, "jobState": "Enqueued"},
    ]
    with caplog.at_level(logging.INFO, logger="airbyte"):
        list(a_reader(clock, started).read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert [message for message in caplog.messages if " is still " in message] == [
        "email_send: export job 100 [2025-01-01 00:00:00, 2026-01-01 00:00:00) is still enqueued after 600 s: "
        "0 files, 0 rows, 0 bytes read so far. The organisation has 1 export job(s) running and 1 queued before it; "
        "Iterable schedules it to start no earlier than 2025-06-01T10:00:00.000-06:00."
    ]
    assert api.calls("GET", "/export/jobs") == ["/api/export/jobs"]


def test_given_a_queued_job_without_progress_then_its_range_falls_back_without_queueing_again(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1))], Step("Enqueued", 0))
    reader = a_reader(clock, started)
    reader.no_progress_limit = 10.0
    recorder = Recorder()
    records = list(reader.read(YEAR, recorder.on_overlap, recorder.fallback))
    assert ids(records) == ["from-data-json"]
    assert len(api.calls("POST", "/start")) == 1
    assert api.calls("DELETE", "/export") == ["/api/export/100"]


def test_given_a_file_over_the_longest_line_then_the_stream_fails_naming_the_file_and_the_size(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", b'{"messageId": "' + b"x" * 300 + b'"}\n')], Step("Completed", 1))
    reader = a_reader(clock, started)
    reader.records_of = StrictJsonlDecoder(parameters={}, max_line_bytes=100).decode
    with pytest.raises(AirbyteTracedException) as error:
        list(reader.read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert error.value.message == (
        "Iterable's export of email_send (dataTypeName=emailSend) for file f1 of export job 100 has a record longer "
        "than 100 bytes (line 1: 317 bytes read of it), the longest record this connector writes. The stream stops "
        "here, with no state past this range; leave this stream out of the sync, or ask Iterable why one record is "
        "this large."
    )


class Trickle(io.RawIOBase):
    """A file body that gives one byte per read, 20 s apart on the fake clock, and never ends."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        self.clock.sleep(20.0)
        return b"{"

    def readinto(self, buffer: Any) -> int:
        buffer[:1] = self.read1()
        return 1


def test_given_a_file_body_that_trickles_then_the_download_ends_at_its_deadline(clock: FakeClock) -> None:
    with requests_mock.Mocker() as mocker:
        mocker.get("https://files.example.com/f1", body=Trickle(clock), headers={"Content-Length": "3276800"})
        response = FileFetcher(clock=clock).get("https://files.example.com/f1")
        began = clock.now
        with pytest.raises(DownloadTooSlow, match=r"^download still running after 160 s \(slower than allowed\)$"):
            b"".join(response.iter_content(chunk_size=1 << 16))
    # 60 s of grace + 3,276,800 bytes at 32 KiB/s = 160 s; the trickle is noticed at the first read past it.
    assert clock.now - began == 160.0 + 20.0


def test_given_a_job_api_answer_that_trickles_then_each_try_ends_at_its_deadline_and_the_call_fails(
    clock: FakeClock,
) -> None:
    budget = JobCallBudget(gap=JOB_CALL_SPACING, clock=clock, sleep=clock.sleep)
    client = JobApiClient(api_base=API, api_key=KEY, budget=budget, sleep=clock.sleep, clock=clock)
    with requests_mock.Mocker() as mocker:
        listing = mocker.get(f"{API}/api/export/7/files", [{"body": Trickle(clock)} for _ in range(6)])
        with pytest.raises(AirbyteTracedException) as error:
            client.files(7, None)
    assert error.value.message == (
        "Iterable's export API failed 6 times in a row on GET export/7/files "
        "(answer download still running after 120 s (slower than allowed))."
    )
    assert listing.call_count == 6


def test_given_a_trickling_file_then_it_counts_as_unreadable_and_is_listed_again(
    api: FakeJobApi, clock: FakeClock, started: StartedJobs
) -> None:
    api.plan([("f1", events(1))], Step("Completed", 1))
    reader = a_reader(clock, started)
    slow = {"times": 1}

    def records_of(response: Any) -> Any:
        if slow["times"]:
            slow["times"] -= 1
            raise DownloadTooSlow("download still running after 60 s (slower than allowed)")
        return StrictJsonlDecoder(parameters={}).decode(response)

    reader.records_of = records_of
    records = list(reader.read(YEAR, Recorder().on_overlap, Recorder().fallback))
    assert ids(records) == ["m-1"]
    assert api.wire.count("FILE f1") == 2
