"""Above both export paths: which one reads a range, and what happens when export jobs give up on part of it."""

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from airbyte_cdk.sources.types import StreamSlice

from source_iterable.export.jobs.client import JobApiClient
from source_iterable.export.jobs.files import FileFetcher
from source_iterable.export.jobs.reader import JobRangeReader
from source_iterable.export.jobs.tracker import StartedJobs
from source_iterable.export.pacing import Clock, Sleep
from source_iterable.export.reading import RangeProgress, RangeReader, WindowDone
from source_iterable.export.records import ExportRecords
from source_iterable.export.window import Window, describe

LOGGER = logging.getLogger("airbyte")


@dataclass
class JobServices:
    """What every export stream of one sync shares for export jobs: the client (and its call budget), the file
    fetcher, the slots (at most `max_concurrent_export_jobs` jobs started and not fully read) and the jobs started."""

    client: JobApiClient
    fetcher: FileFetcher
    slots: threading.Semaphore
    started_jobs: StartedJobs = field(default_factory=StartedJobs)


@dataclass
class ExportOrchestrator:
    """One export stream's ranges, read by the path the source chose for it in this sync (paths.py).

    - `jobs` is None: every range goes to `data_json` (export/data.json windows, checkpointed per window).
    - `jobs` given: one export job per range (`JobRangeReader`); a range, or a truncated half of it, whose jobs keep
      failing is read by `data_json` instead. Its checkpoints (`WindowDone`) pass only while no record came from a
      job file: a checkpoint also resets the retriever's de-duplication, and a failed job's records may lie anywhere
      in the range. A summary line per range says what it cost.
    Each file goes through `records` — the same `ExportRecords` (decoder, transformations) as an export/data.json
    body, so a record is byte-identical whichever path produced it.
    """

    stream: str
    data_json: RangeReader
    records: ExportRecords
    data_type: str
    fallback_data_type: str = ""
    jobs: JobServices | None = None
    min_window: timedelta = timedelta(hours=1)
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep

    def read_range(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress
    ) -> Iterator[dict[str, Any] | WindowDone]:
        if self.jobs is None:
            yield from self.data_json.read_range(window, stream_slice, progress)
            return
        yield from self._through_jobs(self.jobs, window, stream_slice, progress)

    def _through_jobs(
        self, jobs: JobServices, window: Window, stream_slice: StreamSlice, progress: RangeProgress
    ) -> Iterator[dict[str, Any] | WindowDone]:
        began = self.clock()
        reader = JobRangeReader(
            stream=self.stream,
            data_type=self.data_type,
            fallback_data_type=self.fallback_data_type,
            client=jobs.client,
            fetcher=jobs.fetcher,
            slots=jobs.slots,
            started_jobs=jobs.started_jobs,
            records_of=lambda response: self.records.transformed(response, stream_slice),
            min_window=self.min_window,
            clock=self.clock,
            sleep=self.sleep,
        )

        def fallback(part: Window) -> Iterator[dict[str, Any] | WindowDone]:
            for item in self.data_json.read_range(part, stream_slice, progress):
                if not isinstance(item, WindowDone) or reader.stats.rows == 0:
                    yield item

        yield from reader.read(window, progress.expect_repeats, fallback)
        self.data_type = reader.data_type
        stats = reader.stats
        LOGGER.info(
            f"{self.stream}: read {describe(window)} with export jobs: {stats.jobs} jobs, {stats.requests} job API "
            f"requests, {stats.files} files, {stats.rows} records, {stats.bytes} bytes in "
            f"{self.clock() - began:.1f} s."
        )
