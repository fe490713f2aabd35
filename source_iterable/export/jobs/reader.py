"""One range of one data type read through export jobs: start → poll → files → records.

Why not the CDK's `AsyncRetriever`/`AsyncJobOrchestrator` (cdk-notes §8): it downloads a job's files only once the
job is completed (Iterable adds files while running: reading them as they appear overlaps download with Iterable's
processing), polls every job every 5 s on its own clock (Iterable allows 1 job-API request per second for the whole
organisation), reads the download targets from one polling response (Iterable pages the file list with
`startAfter`), has no answer to an expired pre-signed URL (403: re-list the files), to `exportTruncated` (split the
range) or to a job that keeps failing (hand the range to the caller's fallback), and makes one job per stream slice
where one job per stream range is the point.
"""

import logging
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.bounds import JOB_QUEUED_SECONDS, JOB_TRIES
from source_iterable.export.jobs.client import JobApiClient, JobFailed, JobRequestRejected
from source_iterable.export.jobs.files import FileFetcher
from source_iterable.export.jobs.job import JobRun
from source_iterable.export.jobs.tracker import StartedJobs
from source_iterable.export.pacing import Clock, Sleep
from source_iterable.export.window import Window, describe, halves

LOGGER = logging.getLogger("airbyte")

RecordsOf = Callable[[requests.Response], Iterable[MutableMapping[str, Any]]]
# What the caller does with a range export jobs gave up on: its records, and the fallback path's own checkpoints.
Fallback = Callable[[Window], Iterable[Any]]


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
    decoder and transformations: the same as for an `export/data.json` body), in listing order. Before anything that
    may yield a record again — a failed job started again, a truncated range split, a range handed to `fallback` —
    it calls `on_overlap()`, so the caller starts remembering what it emitted. A file whose body was cut is read
    again from its start and its first records, already yielded, are skipped (a file's content does not change).
    At most `slots` jobs are started and not fully read at once; every job started is in `started_jobs` until it
    ends, so an interrupted sync cancels it.
    """

    stream: str
    data_type: str
    client: JobApiClient
    fetcher: FileFetcher
    slots: threading.Semaphore
    records_of: RecordsOf
    started_jobs: StartedJobs = field(default_factory=StartedJobs)
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    max_job_attempts: int = JOB_TRIES
    min_window: timedelta = timedelta(hours=1)
    no_progress_limit: float = JOB_QUEUED_SECONDS
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
                if failures[current] >= self.max_job_attempts or not failure.retry:
                    LOGGER.warning(
                        f"{self.stream}: export job for {describe(current)} failed {failures[current]} time(s) "
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
                pending.extend(reversed(self._halves_of_truncated(current)))

    def _halves_of_truncated(self, window: Window) -> tuple[Window, Window]:
        parts = halves(window, self.min_window)
        if parts is None:
            raise AirbyteTracedException(
                message=(
                    f"Iterable truncated the export of {self.stream} (dataTypeName={self.data_type}) for "
                    f"{describe(window)} UTC (over 100 GB) even for a range of {window[1] - window[0]}. No state was "
                    "saved past this range."
                ),
                internal_message="exportTruncated on a minimal range",
                failure_type=FailureType.system_error,
            )
        LOGGER.warning(
            f"{self.stream}: Iterable truncated the export job for {describe(window)}; exporting "
            f"{describe(parts[0])} and {describe(parts[1])} again without re-emitting records."
        )
        return parts

    def _export(self, window: Window) -> Generator[dict[str, Any], None, bool]:
        """Start one job for `window`, yield the records of all its files; return whether it was truncated."""
        with self.slots:
            with self.started_jobs.starting():
                job_id = self._start(window)
                self.started_jobs.add(job_id, self.client)
            self.stats.jobs += 1
            finished = False
            try:
                truncated = yield from JobRun(self, job_id, window).records()
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
