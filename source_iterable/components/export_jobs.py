"""Iterable's asynchronous export API: one job per stream range, its files read while the job still runs.

Why not the CDK's `AsyncRetriever`/`AsyncJobOrchestrator` (cdk-notes §8): it downloads a job's files only once the
job is completed (Iterable adds files while running: reading them as they appear overlaps download with Iterable's
processing), polls every job every 5 s on its own clock (Iterable allows 1 job-API request per second for the whole
organisation: 4 jobs polled every 5 s plus starts would exceed it and cannot be tested without real sleeps), reads
the download targets from one polling response (Iterable pages the file list with `startAfter`), has no answer to
an expired pre-signed URL (403: re-list the files), to `exportTruncated` (split the range) or to a job that keeps
failing (fall back to `export/data.json`), and makes one job per stream slice where one job per stream range is the
point. The pieces here are small and each takes an injected clock and sleep:

- `JobApiClient`: `POST export/start`, `GET export/{id}/files`, `DELETE export/{id}`, each through one
  `JobCallBudget` for the process (see there why a strict 1/s server never answers 429); a 429 waits `Retry-After`
  (capped), a 5xx or dropped connection is retried a bounded number of times.
- `FileFetcher`: a plain GET of a pre-signed file URL with its own session: never the `Api-Key`, no redirects, only
  https (http to a loopback host for the emulator).
- `StartedJobs`: the jobs this process started and has not finished, so a failed or interrupted sync cancels
  exactly those (`cancel_started_jobs`, called by the console script's SIGTERM/SIGINT handler).
- `JobRangeReader`: the records of one range of one data type: at most `max_concurrent_export_jobs` jobs started and
  not fully read (one process-wide semaphore), files read in listing order as they appear, a truncated export split
  in halves, a failed job retried then handed to the synchronous path.
"""

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.components.config_validation import is_loopback
from source_iterable.components.export_data_json import RangeProgress, RangeReader, WindowDone
from source_iterable.components.export_plan import WindowFailed
from source_iterable.components.export_records import ExportRecords
from source_iterable.components.export_request import mask
from source_iterable.components.jsonl import MalformedLineError, TruncatedBodyError

LOGGER = logging.getLogger("airbyte")

REQUEST_FORMAT = "%Y-%m-%d %H:%M:%S"
# Job-API requests per second of this process (Iterable: 1/s per organisation): one request at a time, the next
# sent 1/0.95 = 1.05 s after the previous one's answer (JobCallBudget). Hidden config
# `export_job_requests_per_second` changes it (the tests' emulator has no limit).
JOB_REQUESTS_PER_SECOND = 0.95
JOB_CALL_SPACING = 1 / JOB_REQUESTS_PER_SECOND
MAX_RETRY_AFTER = 60.0  # a longer Retry-After is not believed: wait this long and ask again
MAX_RATE_LIMITED = 10  # 429s in a row on one job-API call before the sync fails
MAX_CALL_FAILURES = 4  # 5xx / dropped connections in a row on one job-API call before the sync fails
MAX_FILE_ATTEMPTS = 4  # reads of one file (expired URL, connection dropped mid-body) before the job counts as failed
FIRST_POLL_DELAY = 2.0
MAX_POLL_DELAY = 30.0
NO_PROGRESS_LIMIT = 3600.0  # a job with no new file and no state change for this long counts as failed
# A job waiting in one state (queued behind other jobs of the organization) says so this often, so that the sync is
# never silent for longer than the platform allows (metadata.yaml maxSecondsBetweenMessages).
STILL_WAITING_EVERY = 600.0
MAX_ERROR_BODY = 200
MAX_ANSWER_BYTES = 4 << 20  # a job-API answer larger than this is not Iterable's
START_WAIT = 10.0  # on SIGTERM, how long to wait for an export/start in flight to return the id to cancel

Window = tuple[datetime, datetime]
Clock = Callable[[], float]
Sleep = Callable[[float], None]


def describe(window: Window) -> str:
    return f"[{window[0].strftime(REQUEST_FORMAT)}, {window[1].strftime(REQUEST_FORMAT)})"


class JobFailed(Exception):
    """The job failed, was cancelled by someone else, vanished, or made no progress: start the range again.

    `ended`: Iterable reports the job finished (failed, cancelled, unknown); otherwise it may still run and is
    cancelled before the range is started again."""

    def __init__(self, message: str, ended: bool = False) -> None:
        super().__init__(message)
        self.ended = ended


class FileUnreadable(Exception):
    """A file's URL expired (403) or its body was cut: list the files again for fresh URLs and read it again.

    `records_of` (see `JobRangeReader`) raises it too when it knows the body was cut."""


@dataclass(frozen=True)
class JobFile:
    name: str
    url: str


@dataclass(frozen=True)
class JobStatus:
    """One `GET export/{jobId}/files` answer, validated: every byte of it is untrusted."""

    state: str  # lower case: enqueued, running, completed, failed, cancelling, cancelled, …
    truncated: bool
    files: tuple[JobFile, ...]

    @classmethod
    def parse(cls, body: Any) -> "JobStatus":
        if not isinstance(body, dict) or not isinstance(body.get("jobState"), str):
            raise ValueError("no jobState")
        raw_files = body.get("files") or []
        if not isinstance(raw_files, list):
            raise ValueError("files is not a list")
        files = []
        for entry in raw_files:
            if (
                not isinstance(entry, dict)
                or not isinstance(entry.get("file"), str)
                or not isinstance(entry.get("url"), str)
            ):
                raise ValueError("a file entry without file and url")
            files.append(JobFile(entry["file"], entry["url"]))
        return cls(state=body["jobState"].lower(), truncated=body.get("exportTruncated") is True, files=tuple(files))


def _excerpt(body: bytes) -> str:
    try:
        answer = orjson.loads(body[:4096])
    except orjson.JSONDecodeError:
        return body[:MAX_ERROR_BODY].decode("utf-8", errors="replace")
    if isinstance(answer, dict):
        return f"{answer.get('code')}: {str(answer.get('msg'))[:MAX_ERROR_BODY]}"
    return str(answer)[:MAX_ERROR_BODY]


def _read_capped(response: requests.Response, method: str, path: str) -> bytes:
    """A job-API answer's body, refusing one over `MAX_ANSWER_BYTES` (Iterable's are a few KB)."""
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=1 << 16):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            response.close()
            raise AirbyteTracedException(
                message=f"Iterable's answer to {method} {path} exceeded {MAX_ANSWER_BYTES} bytes; the sync stops.",
                internal_message=f"oversized answer on {path}",
                failure_type=FailureType.system_error,
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _retry_after(response: requests.Response) -> float:
    """`Retry-After` in seconds within [0, MAX_RETRY_AFTER]; missing or not a finite number: MAX_RETRY_AFTER."""
    try:
        value = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return MAX_RETRY_AFTER
    return min(max(value, 0.0), MAX_RETRY_AFTER) if math.isfinite(value) else MAX_RETRY_AFTER


class CallSlot:
    """The right to send one job-API request now; `pause(seconds)` keeps the next one back longer (a 429)."""

    def __init__(self, budget: "JobCallBudget") -> None:
        self._budget = budget

    def pause(self, seconds: float) -> None:
        self._budget.hold(seconds)


@dataclass
class JobCallBudget:
    """Every job-API request of the process, one at a time, each sent `gap` s or more after the previous *answer*.

    Why not `ExportThrottle` (send times `gap` apart): Iterable counts a request when it *arrives*; two requests
    sent 1.1 s apart can arrive less than 1 s apart when the first was delayed on its way (a slow connection, a busy
    thread), and a strict 1/s window answers 429 (measured on the emulator under load: 9 of 240). Here the next
    request leaves only after the previous one's answer came back, plus `gap`; as the previous request arrived
    before its answer and the next one arrives after it was sent, arrivals are always more than `gap` apart —
    whatever the latencies. The cost is one round trip per request on top of `gap`. A 429 (another client of the
    organisation) holds every request back for `Retry-After`. Clock and sleep are injectable.
    """

    gap: float
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    _free_at: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @contextmanager
    def slot(self) -> Generator[CallSlot, None, None]:
        """Wait for the budget, then hold it while the caller sends its request and reads the answer."""
        with self._lock:
            wait = self._free_at - self.clock()
            if wait > 0:
                self.sleep(wait)
            try:
                yield CallSlot(self)
            finally:
                self._free_at = max(self._free_at, self.clock() + self.gap)

    def hold(self, seconds: float) -> None:
        """Called while holding the slot: the next request waits `seconds` from now (at least `gap`)."""
        self._free_at = max(self._free_at, self.clock() + seconds)


@dataclass
class JobApiClient:
    """Iterable's job endpoints, every request of the process through one `budget` (see module docstring)."""

    api_base: str
    api_key: str
    budget: JobCallBudget
    sleep: Sleep = time.sleep
    timeout: tuple[float, float] = (30.0, 120.0)
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.headers["Api-Key"] = self.api_key

    def start(self, data_type: str, window: Window) -> int:
        body = {
            "dataTypeName": data_type,
            "outputFormat": "application/x-json-stream",
            "startDateTime": window[0].strftime(REQUEST_FORMAT),
            "endDateTime": window[1].strftime(REQUEST_FORMAT),
        }
        answer = self._call("POST", "export/start", json=body)
        job_id = answer.get("jobId") if isinstance(answer, dict) else None
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            raise AirbyteTracedException(
                message=f"Iterable's export/start for {data_type} {describe(window)} answered without a jobId.",
                internal_message=str(answer)[:MAX_ERROR_BODY],
                failure_type=FailureType.system_error,
            )
        return job_id

    def files(self, job_id: int, start_after: str | None) -> JobStatus:
        params = {"startAfter": start_after} if start_after else None
        answer = self._call("GET", f"export/{job_id}/files", params=params, missing_ok=True)
        if answer is None:
            raise JobFailed(f"job {job_id} is unknown to Iterable (404)", ended=True)
        try:
            return JobStatus.parse(answer)
        except ValueError as error:
            raise AirbyteTracedException(
                message=f"Iterable's export/{job_id}/files answered in an unexpected form ({error}).",
                internal_message=str(answer)[:MAX_ERROR_BODY],
                failure_type=FailureType.system_error,
            ) from None

    def cancel(self, job_id: int) -> None:
        self._call("DELETE", f"export/{job_id}", missing_ok=True)

    def _call(self, method: str, path: str, missing_ok: bool = False, **kwargs: Any) -> Any:
        url = f"{self.api_base}/api/{path}"
        rate_limited = failures = 0
        while True:
            with self.budget.slot() as slot:
                try:
                    response = self.session.request(
                        method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs
                    )
                    body = _read_capped(response, method, path)  # read while holding the budget
                except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
                    response, body, cause = None, b"", error.__class__.__name__
                if response is not None and response.status_code == 429:
                    slot.pause(_retry_after(response))
            if response is None:
                failures += 1
                if failures > MAX_CALL_FAILURES:
                    raise self._gave_up(method, path, cause)
                self.sleep(min(2.0**failures, 30.0))
                continue
            status = response.status_code
            excerpt = mask(_excerpt(body), self.api_key) if status >= 300 else ""
            if status == 429:
                rate_limited += 1
                if rate_limited > MAX_RATE_LIMITED:
                    raise AirbyteTracedException(
                        message=(
                            f"Iterable kept answering 429 (rate limit) to {method} export API {path} "
                            f"{rate_limited} times in a row: {excerpt}. Another client of the same "
                            "organisation may be using the export-jobs API; retry later or set export_mode to sync."
                        ),
                        internal_message=f"HTTP 429 x{rate_limited} on {path}",
                        failure_type=FailureType.transient_error,
                    )
                continue
            if status >= 500:
                failures += 1
                if failures > MAX_CALL_FAILURES:
                    raise self._gave_up(method, path, f"HTTP {status} {excerpt}")
                self.sleep(min(2.0**failures, 30.0))
                continue
            if status == 404 and missing_ok:
                return None
            if status in (401, 403):
                raise AirbyteTracedException(
                    message=(
                        f"Iterable refused {method} {path} ({excerpt}). Only a Server-side API key can "
                        "use the export API; or set export_mode to sync."
                    ),
                    internal_message=f"HTTP {status} on {path}",
                    failure_type=FailureType.config_error,
                )
            if status >= 300:
                raise JobRequestRejected(status, f"Iterable rejected {method} {path} with HTTP {status}: {excerpt}")
            if not body:
                return {}
            try:
                return orjson.loads(body)
            except orjson.JSONDecodeError:
                raise AirbyteTracedException(
                    message=(
                        f"Iterable's {path} answered with a body that is not JSON: "
                        f"{mask(body[:80].decode('utf-8', errors='replace'), self.api_key)!r}."
                    ),
                    internal_message=f"non-JSON body on {path}",
                    failure_type=FailureType.system_error,
                ) from None

    @staticmethod
    def _gave_up(method: str, path: str, cause: str) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=f"Iterable's export API failed {MAX_CALL_FAILURES + 1} times in a row on {method} {path} ({cause}).",
            internal_message=cause,
            failure_type=FailureType.transient_error,
        )


class JobRequestRejected(Exception):
    """A 4xx other than 401/403/404/429 on a job call (for export/start: a data type Iterable does not know)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class FileFetcher:
    """GET a pre-signed file URL: its own session (never the `Api-Key`), no redirects, https or loopback http only."""

    timeout: tuple[float, float] = (30.0, 300.0)
    session: requests.Session = field(default_factory=requests.Session)

    def get(self, url: str) -> requests.Response:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not (parts.scheme == "https" and host) and not (parts.scheme == "http" and is_loopback(host)):
            raise AirbyteTracedException(
                message=(
                    f"Iterable listed an export file at a URL that is not https ({parts.scheme}://{host}); "
                    "the connector does not download it."
                ),
                internal_message="file URL refused",
                failure_type=FailureType.system_error,
            )
        try:
            response = self.session.get(url, timeout=self.timeout, stream=True, allow_redirects=False)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            raise FileUnreadable(error.__class__.__name__) from None
        if response.status_code == 200:
            return response
        status = response.status_code
        response.close()
        raise FileUnreadable(f"HTTP {status}")


class StartedJobs:
    """The jobs this process started and has not finished (completed, failed or cancelled), with their client.

    A job exists at Iterable as soon as `export/start` arrives there, before its id comes back: `cancel_all` (the
    process is ending) refuses new starts, waits up to `START_WAIT` s for the starts in flight to return their ids,
    then cancels every job known."""

    def __init__(self) -> None:
        self._jobs: dict[int, JobApiClient] = {}
        self._lock = threading.Condition()
        self._closed = False
        self._starting = 0

    @contextmanager
    def starting(self) -> Generator[None, None, None]:
        """Around one `export/start` and the `add` of its id."""
        with self._lock:
            if self._closed:
                raise JobFailed("the sync is being interrupted: no new export job", ended=True)
            self._starting += 1
        try:
            yield
        finally:
            with self._lock:
                self._starting -= 1
                self._lock.notify_all()

    def add(self, job_id: int, client: JobApiClient) -> None:
        with self._lock:
            self._jobs[job_id] = client

    def discard(self, job_id: int) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def ids(self) -> list[int]:
        with self._lock:
            return sorted(self._jobs)

    def cancel(self, job_id: int) -> None:
        """Cancel one job if this process started it and has not finished it; errors are logged, not raised."""
        with self._lock:
            client = self._jobs.pop(job_id, None)
        if client is None:
            return
        try:
            client.cancel(job_id)
        except (AirbyteTracedException, JobRequestRejected, requests.exceptions.RequestException) as error:
            LOGGER.warning(f"Could not cancel export job {job_id}: {error}")
            return
        LOGGER.info(f"Cancelled export job {job_id} (started by this sync, not fully read).")

    def cancel_all(self, start_wait: float = START_WAIT) -> None:
        """Cancel every job not finished, including those being started now; start no other."""
        deadline = time.monotonic() + start_wait
        with self._lock:
            self._closed = True
            while self._starting and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(left)
        for job_id in self.ids():
            self.cancel(job_id)


STARTED_JOBS = StartedJobs()


def cancel_started_jobs() -> None:
    """Cancel every export job this process started and has not finished (the console script's signal handler)."""
    STARTED_JOBS.cancel_all()


RecordsOf = Callable[[requests.Response], Iterable[MutableMapping[str, Any]]]
Fallback = Callable[[Window], Iterable[Any]]  # records, and the fallback path's own checkpoints (WindowDone)


@dataclass
class JobStats:
    requests: int = 0
    jobs: int = 0
    files: int = 0
    rows: int = 0
    bytes: int = 0


@dataclass
class JobRangeReader:
    """The records of one range of one data type, read through export jobs (see module docstring).

    `read(window, on_overlap, fallback)` yields what `records_of` makes of each file's response (the stream's
    decoder and transformations: the same as for an `export/data.json` body), in listing order. Before anything that may
    yield a record again — a failed job started again, a truncated range split, a range handed to `fallback` — it
    calls `on_overlap()`, so the caller starts remembering what it emitted. A file whose body was cut is read
    again from its start and its first records, already yielded, are skipped (a file's content does not change).
    """

    stream: str
    data_type: str
    client: JobApiClient
    fetcher: FileFetcher
    slots: threading.Semaphore
    records_of: RecordsOf
    started_jobs: StartedJobs = field(default_factory=lambda: STARTED_JOBS)
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    max_job_attempts: int = 3
    min_window: timedelta = timedelta(hours=1)
    no_progress_limit: float = NO_PROGRESS_LIMIT
    fallback_data_type: str = ""
    stats: JobStats = field(default_factory=JobStats)

    def read(self, window: Window, on_overlap: Callable[[], None], fallback: Fallback) -> Iterator[Any]:
        pending = [window]
        failures: dict[Window, int] = {}
        while pending:
            current = pending.pop()
            try:
                truncated = yield from self._export(current)
            except JobFailed as failure:
                on_overlap()
                failures[current] = failures.get(current, 0) + 1
                if failures[current] >= self.max_job_attempts:
                    LOGGER.warning(
                        f"{self.stream}: export job for {describe(current)} failed {failures[current]} times "
                        f"({failure}); reading this range with export/data.json instead."
                    )
                    yield from fallback(current)
                else:
                    LOGGER.warning(
                        f"{self.stream}: export job for {describe(current)} failed ({failure}); starting it again."
                    )
                    pending.append(current)
                continue
            if truncated:
                on_overlap()
                start, end = current
                if end - start < 2 * self.min_window:
                    raise AirbyteTracedException(
                        message=(
                            f"Iterable truncated the export of {self.stream} (dataTypeName={self.data_type}) for "
                            f"{describe(current)} UTC (over 100 GB) even for a range of {end - start}. No state was "
                            "saved past this range."
                        ),
                        internal_message="exportTruncated on a minimal range",
                        failure_type=FailureType.system_error,
                    )
                middle = start + timedelta(seconds=int((end - start).total_seconds()) // 2)
                LOGGER.warning(
                    f"{self.stream}: Iterable truncated the export job for {describe(current)}; exporting "
                    f"{describe((start, middle))} and {describe((middle, end))} again without re-emitting records."
                )
                pending.extend([(middle, end), (start, middle)])

    def _export(self, window: Window) -> Generator[dict[str, Any], None, bool]:
        """Start one job for `window`, yield the records of all its files; return whether it was truncated."""
        with self.slots:
            with self.started_jobs.starting():
                job_id = self._start(window)
                self.started_jobs.add(job_id, self.client)
            self.stats.jobs += 1
            finished = False
            try:
                truncated = yield from self._read_job(job_id, window)
                finished = True
                return truncated
            except JobFailed as failure:
                finished = failure.ended
                raise
            finally:
                if finished:
                    self.started_jobs.discard(job_id)
                else:
                    self.started_jobs.cancel(job_id)

    def _start(self, window: Window) -> int:
        self.stats.requests += 1
        try:
            return self.client.start(self.data_type, window)
        except JobRequestRejected as rejected:
            spelling = self.fallback_data_type
            if rejected.status != 400 or not spelling or spelling == self.data_type:
                raise AirbyteTracedException(
                    message=f"{rejected} ({self.stream}, dataTypeName={self.data_type}, {describe(window)} UTC).",
                    internal_message=str(rejected),
                    failure_type=FailureType.system_error,
                ) from None
            LOGGER.warning(
                f"{self.stream}: Iterable rejected dataTypeName={self.data_type} ({rejected}); using the spelling "
                f"{spelling} from now on."
            )
        self.data_type = spelling
        self.stats.requests += 1
        return self.client.start(self.data_type, window)

    def _read_job(self, job_id: int, window: Window) -> Generator[dict[str, Any], None, bool]:
        last_read: str | None = None  # the last file fully read
        last_listed: str | None = None  # the last file name received in a listing
        queue: deque[JobFile] = deque()
        skip: dict[str, int] = {}  # records of a file already yielded before its body was cut
        attempts: dict[str, int] = {}
        state = ""
        files = rows = size = 0
        delay = FIRST_POLL_DELAY
        self.sleep(delay)  # a job just started has no file yet: the first listing would be a wasted call
        progress_at = reported_at = self.clock()
        while True:
            if not queue:
                self.stats.requests += 1
                status = self.client.files(job_id, last_listed)
                now = self.clock()
                if status.state != state:
                    state = status.state
                    progress_at = reported_at = now
                    LOGGER.info(
                        f"{self.stream}: export job {job_id} {describe(window)} is {state}: "
                        f"{files} files, {rows} rows, {size} bytes read so far."
                    )
                elif now - reported_at >= STILL_WAITING_EVERY:
                    reported_at = now
                    LOGGER.info(
                        f"{self.stream}: export job {job_id} {describe(window)} is still {state} after "
                        f"{now - progress_at:.0f} s: {files} files, {rows} rows, {size} bytes read so far."
                    )
                if state in ("failed", "cancelled", "cancelling", "canceled"):
                    raise JobFailed(f"job {job_id} is {state}", ended=True)
                queue.extend(status.files)
                if status.files:
                    last_listed = status.files[-1].name
                    delay = FIRST_POLL_DELAY
                    continue
                if state == "completed":
                    if status.truncated:
                        LOGGER.warning(
                            f"{self.stream}: export job {job_id} {describe(window)} was truncated by Iterable."
                        )
                    return status.truncated
                if self.clock() - progress_at > self.no_progress_limit:
                    raise JobFailed(f"job {job_id} made no progress for {self.no_progress_limit:.0f} s (still {state})")
                self.sleep(delay)
                delay = min(delay * 2, MAX_POLL_DELAY)
                continue
            job_file = queue.popleft()
            began = self.clock()
            counted = {"rows": 0, "bytes": 0}
            try:
                yield from self._read_file(job_file, skip, counted)
            except FileUnreadable as problem:
                attempts[job_file.name] = attempts.get(job_file.name, 0) + 1
                if attempts[job_file.name] >= MAX_FILE_ATTEMPTS:
                    raise JobFailed(
                        f"file {job_file.name} could not be read {MAX_FILE_ATTEMPTS} times ({problem})"
                    ) from None
                LOGGER.warning(
                    f"{self.stream}: export job {job_id} file {job_file.name} unreadable ({problem}); "
                    "listing the files again for fresh URLs."
                )
                queue.clear()
                last_listed = last_read
                continue
            last_read = job_file.name
            progress_at = self.clock()
            files += 1
            rows += counted["rows"]
            size += counted["bytes"]
            self.stats.files += 1
            self.stats.bytes += counted["bytes"]
            LOGGER.info(
                f"{self.stream}: export job {job_id} file {job_file.name}: {counted['rows']} rows, "
                f"{counted['bytes']} bytes in {self.clock() - began:.2f} s."
            )

    def _read_file(self, job_file: JobFile, skip: dict[str, int], counted: dict[str, int]) -> Iterator[dict[str, Any]]:
        response = self.fetcher.get(job_file.url)
        already = skip.get(job_file.name, 0)
        seen = 0
        try:
            for record in self.records_of(response):
                seen += 1
                if seen <= already:
                    continue
                skip[job_file.name] = seen
                counted["rows"] += 1
                self.stats.rows += 1  # as yielded: a file cut later still counts what it gave
                yield cast(dict[str, Any], record)
            counted["bytes"] = _bytes_read(response)
        except MalformedLineError as error:
            raise AirbyteTracedException(
                message=(
                    f"Iterable's export file {job_file.name} of {self.stream} (dataTypeName={self.data_type}) has "
                    f"line {error.line_number} that is not a JSON object: {error.excerpt!r}. The sync stops rather "
                    "than skip data; if this repeats, report it to Iterable."
                ),
                internal_message=str(error),
                failure_type=FailureType.system_error,
            ) from error
        except (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ConnectionError,
            requests.exceptions.Timeout,
            TruncatedBodyError,
        ) as error:
            raise FileUnreadable(f"body cut after {seen} records: {error.__class__.__name__}") from None
        finally:
            response.close()


def _bytes_read(response: requests.Response) -> int:
    raw = getattr(response, "raw", None)
    told = getattr(raw, "tell", None)
    if callable(told):
        try:
            return int(told())
        except (OSError, ValueError, TypeError):
            pass
    length = response.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else 0


@dataclass
class JobServices:
    """What every export stream of one process shares for export jobs: the budget, the slots and the client."""

    client: JobApiClient
    fetcher: FileFetcher
    slots: threading.Semaphore
    max_concurrent: int


_SERVICES: dict[tuple[str, str, int, float], JobServices] = {}
_SERVICES_LOCK = threading.Lock()
_BUDGETS: dict[float, JobCallBudget] = {}


def job_services(config: Mapping[str, Any]) -> JobServices:
    """The process-wide job services for this config's API base (one budget for every job call of the process)."""
    max_concurrent = int(config.get("max_concurrent_export_jobs", 4))
    spacing = 1 / float(config.get("export_job_requests_per_second", JOB_REQUESTS_PER_SECOND))
    key = (str(config["api_base"]), str(config["api_key"]).strip(), max_concurrent, spacing)
    with _SERVICES_LOCK:
        services = _SERVICES.get(key)
        if services is None:
            budget = _BUDGETS.setdefault(spacing, JobCallBudget(gap=spacing))
            services = JobServices(
                client=JobApiClient(api_base=key[0], api_key=key[1], budget=budget),
                fetcher=FileFetcher(),
                slots=threading.BoundedSemaphore(max_concurrent),
                max_concurrent=max_concurrent,
            )
            _SERVICES[key] = services
        return services


@dataclass
class JobsRangeReader:
    """The export-jobs path behind `ExportWindowRetriever`'s range-reader seam (`read_range`, see export_data_json).

    One job per range (the cursor gives a stream on this path one slice for its whole range). Each file goes
    through `records` — the same `ExportRecords` (decoder, transformations) as an `export/data.json` body, so a
    record is byte-identical whichever path produced it. A range whose job keeps failing is read by `data_json`
    (which plans its own windows). No checkpoint inside the range (`WindowDone`) comes from a job: a truncated
    or failed job's records may lie anywhere in the range, and a checkpoint resets the retriever's
    de-duplication. A per-range summary is logged when the range is done.
    """

    stream: str
    services: JobServices
    records: ExportRecords
    data_json: RangeReader
    data_type: str
    fallback_data_type: str
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep

    def read_range(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress
    ) -> Iterator[dict[str, Any] | WindowDone]:
        began = time.monotonic()
        reader = JobRangeReader(
            stream=self.stream,
            data_type=self.data_type,
            fallback_data_type=self.fallback_data_type,
            client=self.services.client,
            fetcher=self.services.fetcher,
            slots=self.services.slots,
            records_of=lambda response: self._file_records(response, window, stream_slice, reader.data_type),
            clock=self.clock,
            sleep=self.sleep,
        )

        def fallback(range_: Window) -> Iterator[dict[str, Any] | WindowDone]:
            # data.json plans its own windows; their checkpoints pass only while no record came from a job file: a
            # checkpoint also resets the retriever's de-duplication, and a failed job's records may lie anywhere.
            for item in self.data_json.read_range(range_, stream_slice, progress):
                if not isinstance(item, WindowDone) or reader.stats.rows == 0:
                    yield item

        yield from reader.read(window, progress.expect_repeats, fallback)
        self.data_type = reader.data_type
        stats = reader.stats
        LOGGER.info(
            f"{self.stream}: read {describe(window)} with export jobs: {stats.jobs} jobs, {stats.requests} job API "
            f"requests, {stats.files} files, {stats.rows} records, {stats.bytes} bytes in "
            f"{time.monotonic() - began:.1f} s."
        )

    def _file_records(
        self, response: requests.Response, window: Window, stream_slice: StreamSlice, data_type: str
    ) -> Iterator[dict[str, Any]]:
        try:
            yield from self.records.read(response, window, stream_slice, data_type)
        except WindowFailed as cut:
            raise FileUnreadable(str(cut)) from None
