"""The export jobs this sync started and has not finished, so that a failed or interrupted sync cancels exactly
those (and never another client's)."""

import logging
import threading
import time
from collections.abc import Generator
from contextlib import contextmanager
from typing import Protocol

import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.bounds import START_WAIT_SECONDS
from source_iterable.export.jobs.client import JobFailed, JobRequestRejected

LOGGER = logging.getLogger("airbyte")


class Canceller(Protocol):
    def cancel(self, job_id: int) -> None: ...


class StartedJobs:
    """The jobs this sync started and has not finished (completed, failed or cancelled), with their client.

    A job exists at Iterable as soon as `export/start` arrives there, before its id comes back: `cancel_all` (the
    process is ending) refuses new starts, waits up to `START_WAIT_SECONDS` for the starts in flight to return their
    ids, then cancels every job known."""

    def __init__(self) -> None:
        self._jobs: dict[int, Canceller] = {}
        self._lock = threading.Condition()
        self._closed = False
        self._starting = 0

    @contextmanager
    def starting(self) -> Generator[None, None, None]:
        """Around one `export/start` and the `add` of its id."""
        with self._lock:
            if self._closed:
                raise JobFailed("the sync is being interrupted: no new export job", ended=True, retry=False)
            self._starting += 1
        try:
            yield
        finally:
            with self._lock:
                self._starting -= 1
                self._lock.notify_all()

    def add(self, job_id: int, client: Canceller) -> None:
        with self._lock:
            self._jobs[job_id] = client

    def discard(self, job_id: int) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)

    def ids(self) -> list[int]:
        with self._lock:
            return sorted(self._jobs)

    def cancel(self, job_id: int) -> None:
        """Cancel one job if this sync started it and has not finished it; errors are logged, not raised."""
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

    def cancel_all(self, start_wait: float = START_WAIT_SECONDS) -> None:
        """Cancel every job not finished, including those being started now; start no other."""
        deadline = time.monotonic() + start_wait
        with self._lock:
            self._closed = True
            while self._starting and (left := deadline - time.monotonic()) > 0:
                self._lock.wait(left)
        for job_id in self.ids():
            self.cancel(job_id)
