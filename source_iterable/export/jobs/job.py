"""One export job, from its first listing to its last file: poll, list with `startAfter`, download, decode.

Progress (the watchdog's) is a state change, a listing naming a file not listed before, or a file yielding a record
not yielded before; re-listing or re-reading what was already read is not. So a job queued for long, a listing that
never moves forward (Iterable ignoring `startAfter`) and a file that keeps failing all end, each with its reason.
"""

import logging
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.bounds import FILE_TRIES, JOB_FIRST_POLL_SECONDS, JOB_MAX_POLL_SECONDS, STILL_WAITING_EVERY_SECONDS
from source_iterable.export.jobs.client import JobFailed, JobRequestRejected
from source_iterable.export.jobs.files import DownloadTooSlow, FileUnreadable
from source_iterable.export.jobs.status import JobFile, JobListing, JobState
from source_iterable.export.jsonl import LineTooLong, MalformedLineError, TruncatedBodyError
from source_iterable.export.planner import WindowFailed
from source_iterable.export.records import CUT_BODY_ERRORS, line_too_long
from source_iterable.export.watchdog import ProgressWatchdog
from source_iterable.export.window import Window, describe
from source_iterable.request_policy import excerpt

if TYPE_CHECKING:
    from source_iterable.export.jobs.reader import JobRangeReader

LOGGER = logging.getLogger("airbyte")
# Listings in a row that name only files already read (Iterable ignoring `startAfter`) before the job is given up.
STUCK_LISTINGS = 3


@dataclass
class FileRead:
    """What one file gave: the records yielded now (not those skipped as already yielded) and its bytes."""

    rows: int = 0
    bytes: int = 0


class JobRun:
    """One job of a `JobRangeReader`: the listing cursor, the files queued and read, the progress (module docstring)."""

    def __init__(self, reader: "JobRangeReader", job_id: int, window: Window) -> None:
        self.reader = reader
        self.job_id = job_id
        self.window = window
        self.last_read: str | None = None  # the last file fully read
        self.last_listed: str | None = None  # the last file name received in a listing
        self.read_names: set[str] = set()
        self.queue: deque[JobFile] = deque()
        self.skip: dict[str, int] = {}  # records of a file already yielded before its body was cut
        self.attempts: dict[str, int] = {}
        self.state = ""
        self.stuck_listings = 0
        self.totals = FileRead()
        self.files = 0
        self.delay = JOB_FIRST_POLL_SECONDS
        self.watchdog = ProgressWatchdog(reader.no_progress_limit, reader.clock)
        self.reported_at = self.listed_at = reader.clock()

    @property
    def name(self) -> str:
        return f"{self.reader.stream}: export job {self.job_id} {describe(self.window)}"

    def records(self) -> Generator[dict[str, Any], None, bool]:
        """Every record of the job's files; returns whether Iterable truncated the export."""
        self.reader.sleep(self.delay)  # a job just started has no file yet: the first listing would be a wasted call
        self.watchdog.progress()
        while True:
            if not self.queue:
                listing = self._list()
                if listing.state is JobState.COMPLETED and not self.queue:
                    if listing.truncated:
                        LOGGER.warning(f"{self.name} was truncated by Iterable.")
                    return listing.truncated
                if not self.queue:
                    self._wait(listing)
                continue
            yield from self._read_next()

    def _list(self) -> JobListing:
        reader = self.reader
        reader.stats.requests += 1
        listing = reader.client.files(self.job_id, self.last_listed)
        self.listed_at = reader.clock()
        if listing.state_text != self.state:
            self.state = listing.state_text
            self.watchdog.progress()
            self.reported_at = reader.clock()
            LOGGER.info(f"{self.name} is {self.state}: {self._so_far()}")
        if listing.state.ended_without_data:
            raise JobFailed(f"job {self.job_id} is {self.state}", ended=True)
        new = [each for each in listing.files if each.name not in self.read_names]
        if listing.files and not new:
            self.stuck_listings += 1
            if self.stuck_listings >= STUCK_LISTINGS:
                raise JobFailed(
                    f"Iterable's file listing of job {self.job_id} does not move forward: it listed "
                    f"{listing.files[0].name} again after startAfter={self.last_listed}",
                    retry=False,
                )
        elif new:
            self.stuck_listings = 0
            self.watchdog.progress()
            self.queue.extend(new)
            self.last_listed = new[-1].name
            self.delay = JOB_FIRST_POLL_SECONDS
        return listing

    def _wait(self, listing: JobListing) -> None:
        """No file to read yet: give up past the progress limit, else say so now and then, and poll later."""
        reader = self.reader
        if self.watchdog.expired():
            raise JobFailed(
                f"job {self.job_id} made no progress for {reader.no_progress_limit:.0f} s (still {self.state})",
                retry=listing.state is not JobState.ENQUEUED,
            )
        now = reader.clock()
        if now - self.reported_at >= STILL_WAITING_EVERY_SECONDS:
            self.reported_at = now
            LOGGER.info(
                f"{self.name} is still {self.state} after {self.watchdog.silent_for():.0f} s: {self._so_far()}"
                + (self._queue_position() if listing.state is JobState.ENQUEUED else "")
            )
        # The next listing `delay` after this one's answer, whatever the report above cost.
        reader.sleep(max(self.listed_at + self.delay - reader.clock(), 0.0))
        self.delay = min(self.delay * 2, JOB_MAX_POLL_SECONDS)

    def _queue_position(self) -> str:
        """Where the job stands in the organisation's queue, from `GET export/jobs` (Iterable gives no position:
        the jobs running and queued before this one, and when Iterable schedules it to start)."""
        try:
            answer = self.reader.client.jobs()
        except (AirbyteTracedException, JobRequestRejected) as error:
            return f" Iterable's list of jobs could not be read ({error})."
        jobs = answer.get("jobs") if isinstance(answer, dict) else None
        if not isinstance(jobs, list):
            return ""
        mine = next((job for job in jobs if isinstance(job, dict) and job.get("id") == self.job_id), {})
        ahead = [
            job
            for job in jobs
            if isinstance(job, dict)
            and isinstance(job.get("id"), int)
            and job["id"] < self.job_id
            and _state_of(job) in (JobState.ENQUEUED, JobState.RUNNING)
        ]
        running = sum(_state_of(job) is JobState.RUNNING for job in ahead)
        scheduled = mine.get("scheduledStartTime")
        return f" The organisation has {running} export job(s) running and {len(ahead) - running} queued before it" + (
            f"; Iterable schedules it to start no earlier than {scheduled}." if isinstance(scheduled, str) else "."
        )

    def _read_next(self) -> Generator[dict[str, Any], None, None]:
        reader = self.reader
        job_file = self.queue.popleft()
        began = reader.clock()
        try:
            read = yield from self._read_file(job_file)
        except FileUnreadable as problem:
            self._unreadable(job_file, problem)
            return
        self.last_read = job_file.name
        self.read_names.add(job_file.name)
        self.files += 1
        self.totals.rows += read.rows
        self.totals.bytes += read.bytes
        reader.stats.files += 1
        reader.stats.bytes += read.bytes
        if read.rows == 0 and job_file.name not in self.skip:
            LOGGER.warning(f"{self.name} file {job_file.name} is empty (Iterable does not write empty files).")
        LOGGER.info(
            f"{self.name} file {job_file.name}: {read.rows} rows, {read.bytes} bytes in {reader.clock() - began:.2f} s."
        )

    def _unreadable(self, job_file: JobFile, problem: FileUnreadable) -> None:
        self.attempts[job_file.name] = self.attempts.get(job_file.name, 0) + 1
        if self.attempts[job_file.name] >= FILE_TRIES:
            raise JobFailed(f"file {job_file.name} could not be read {FILE_TRIES} times ({problem})") from None
        LOGGER.warning(
            f"{self.name} file {job_file.name} unreadable ({problem}); listing the files again for fresh URLs."
        )
        self.queue.clear()
        self.last_listed = self.last_read

    def _read_file(self, job_file: JobFile) -> Generator[dict[str, Any], None, FileRead]:
        reader = self.reader
        response = reader.fetcher.get(job_file.url)
        already = self.skip.get(job_file.name, 0)
        seen = 0
        read = FileRead()
        try:
            for record in reader.records_of(response):
                seen += 1
                if seen <= already:
                    continue
                self.skip[job_file.name] = seen
                read.rows += 1
                reader.stats.rows += 1  # as yielded: a file cut later still counts what it gave
                self.watchdog.progress()
                yield cast(dict[str, Any], record)
            read.bytes = _bytes_read(response)
        except LineTooLong as error:
            where = f"file {job_file.name} of export job {self.job_id}"
            raise line_too_long(reader.stream, reader.data_type, where, error) from None
        except MalformedLineError as error:
            if seen == 0:
                raise FileUnreadable(self._not_jsonl(response, error.head)) from None
            raise AirbyteTracedException(
                message=(
                    f"Iterable's export file {job_file.name} of {reader.stream} (dataTypeName={reader.data_type}) "
                    f"has line {error.line_number} that is not a JSON object: {error.excerpt!r}. The sync stops "
                    "rather than skip data; if this repeats, report it to Iterable."
                ),
                internal_message=str(error),
                failure_type=FailureType.system_error,
            ) from error
        except TruncatedBodyError as error:
            if seen == 0 and not error.starts_like_json:
                raise FileUnreadable(self._not_jsonl(response, error.head)) from None
            raise FileUnreadable(f"body cut after {seen} records: TruncatedBodyError") from None
        except (*CUT_BODY_ERRORS, WindowFailed, DownloadTooSlow) as error:
            raise FileUnreadable(f"body cut after {seen} records: {error.__class__.__name__}: {error}") from None
        finally:
            response.close()
        return read

    @staticmethod
    def _not_jsonl(response: requests.Response, head: bytes) -> str:
        content_type = response.headers.get("Content-Type") or "none"
        return f"not JSONL (Content-Type: {content_type}), starting {excerpt(head, size=60)!r}"

    def _so_far(self) -> str:
        return f"{self.files} files, {self.totals.rows} rows, {self.totals.bytes} bytes read so far."


def _state_of(job: dict[str, Any]) -> JobState:
    """A `GET export/jobs` entry's state: a string in practice, an object in the definition (`JobState`)."""
    state = job.get("jobState")
    return JobState.of(state) if isinstance(state, str) else JobState.OTHER


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
