"""What the export streams of one sync share, built by the source and reached through one lookup.

The CDK builds every component from the manifest, handing it only the config (data) and its own API budget, so the
source cannot pass an object of its own to the export retrievers. Instead it makes its runtime the current one while
it builds its streams (`SourceIterable.streams`, `current_runtime`), and each retriever takes it then
(`sync_runtime()`). The lookup is a context variable, set only for the duration of that call: there is no runtime at
module level, and two sources (two syncs in one process, as in the tests) never share one.
"""

import contextvars
import threading
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.export.jobs.client import JobApiClient
from source_iterable.export.jobs.files import FileFetcher
from source_iterable.export.jobs.tracker import StartedJobs
from source_iterable.export.orchestrator import JobServices
from source_iterable.export.pacing import JOB_REQUESTS_PER_SECOND, ExportThrottle, JobCallBudget
from source_iterable.export.paths import SYNC

_CURRENT: contextvars.ContextVar["SyncRuntime"] = contextvars.ContextVar("source_iterable_sync_runtime")


@dataclass
class RefusedKey:
    """Words a 401/403 from the export API after asking `probe` (GET channels, which any key of the project can read)
    once: a 401 there fails with the probe's own "key refused on every endpoint" config error; otherwise the key
    works but cannot export: it is not a Server-side key."""

    probe: Requester | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _probed: bool = field(default=False, init=False, repr=False)

    def error(self, what: str, where: str, status: int, message: str) -> AirbyteTracedException:
        """The config error for a 401/403 on `what` `where` (`POST` `export/start`, `the export of` `email_send`)."""
        with self._lock:
            if self.probe is not None and not self._probed:
                self.probe.send_request()
                self._probed = True
        return AirbyteTracedException(
            message=(
                f"Iterable refused {what} {where} ({message}). Only a Server-side API key can use the export API; "
                "read-only and client-side (Mobile, JavaScript) keys cannot. Create a Server-side key under "
                "Integrations → API Keys."
            ),
            internal_message=f"HTTP {status} on the export API for {where}",
            failure_type=FailureType.config_error,
        )


@dataclass
class SyncRuntime:
    """One sync's shared export machinery (module docstring: how a retriever reaches it).

    - `export_throttle`: every export/data.json request of the sync (export_requests_per_minute in a sliding minute);
    - `job_services`: one job-call budget, the job slots (max_concurrent_export_jobs) and the jobs started;
    - `paths`: the path each export stream takes in this sync (paths.py), chosen by the source before it reads;
    - `batch_records`: export records travel in `RecordBatch`es (the console script's choice, batching.py);
    - `refused_key`: how a 401/403 of the export API is worded;
    - `cancel_jobs()`: what the console script's SIGTERM/SIGINT handler calls.
    """

    batch_records: bool = False
    paths: Mapping[str, str] = field(default_factory=dict)
    started_jobs: StartedJobs = field(default_factory=StartedJobs)
    refused_key: RefusedKey = field(default_factory=RefusedKey)
    _throttle: ExportThrottle | None = field(default=None, init=False, repr=False)
    _jobs: JobServices | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def path_of(self, stream: str) -> str:
        return self.paths.get(stream, SYNC)

    def export_throttle(self, limit: int, period: float, margin: float) -> ExportThrottle:
        """The sync's one export throttle, made with the first caller's settings (every export stream has the
        manifest's)."""
        with self._lock:
            if self._throttle is None:
                self._throttle = ExportThrottle(limit=limit, period=period, margin=margin)
            return self._throttle

    def job_services(self, config: Mapping[str, Any]) -> JobServices:
        """The sync's job services for this config's API base and key, made on first use."""
        with self._lock:
            if self._jobs is None:
                rate = float(config.get("export_job_requests_per_second", JOB_REQUESTS_PER_SECOND))
                self._jobs = JobServices(
                    client=JobApiClient(
                        api_base=str(config["api_base"]),
                        api_key=str(config.get("api_key") or "").strip(),
                        budget=JobCallBudget(gap=1 / rate),
                        session=requests.Session(),
                        refused=self.refused_key.error,
                    ),
                    fetcher=FileFetcher(),
                    slots=threading.BoundedSemaphore(int(config.get("max_concurrent_export_jobs", 4))),
                    started_jobs=self.started_jobs,
                )
            return self._jobs

    def cancel_jobs(self) -> None:
        """Cancel every export job this sync started and has not finished (the process is being stopped)."""
        self.started_jobs.cancel_all()


@contextmanager
def current_runtime(runtime: SyncRuntime) -> Generator[None, None, None]:
    """`runtime` is what `sync_runtime()` returns inside this block (the source building its streams)."""
    token = _CURRENT.set(runtime)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def sync_runtime() -> SyncRuntime:
    """The runtime of the source building streams now; outside that (a component built alone, as in unit tests, or
    by another runner of the manifest) a runtime of the component's own."""
    return _CURRENT.get(None) or SyncRuntime()
