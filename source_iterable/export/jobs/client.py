"""Iterable's job endpoints: `POST export/start`, `GET export/{id}/files`, `GET export/jobs`, `DELETE export/{id}`.

Every request of the sync goes through one `JobCallBudget` (pacing.py: why a strict 1/s server never answers 429),
and every answer through request_policy: a 429 waits `rate_limit_wait`, a 5xx or dropped connection backs off, each
a bounded number of times (bounds.py), then the sync fails naming the call.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.bounds import (
    JOB_ANSWER_SECONDS,
    JOB_API_TIMEOUT_SECONDS,
    MAX_JOB_ANSWER_BYTES,
    RATE_LIMITED_TRIES,
    REQUEST_TRIES,
)
from source_iterable.export.jobs.files import BoundedBody, Clock, DownloadTooSlow
from source_iterable.export.jobs.status import JobListing
from source_iterable.export.pacing import JobCallBudget, Sleep
from source_iterable.export.window import REQUEST_FORMAT, Window, describe
from source_iterable.request_policy import BACKOFF, excerpt, iterable_message, rate_limit_wait

# Answers to a refused key (401/403) on the job API: the caller's `refused` hook words it (a key that works nowhere
# vs a key that is not a Server-side one); without one, this message.
NOT_A_SERVER_KEY = "Only a Server-side API key can use the export API; or set export_mode to sync."


class JobFailed(Exception):
    """The job failed, was cancelled by someone else, vanished, or made no progress: start the range again.

    `ended`: Iterable reports the job finished (failed, cancelled, unknown); otherwise it may still run and is
    cancelled before the range is started again. `retry`: whether starting the same range again may help (a job
    that sat queued for an hour would only queue again: its range goes to the fallback at once)."""

    def __init__(self, message: str, ended: bool = False, retry: bool = True) -> None:
        super().__init__(message)
        self.ended = ended
        self.retry = retry


class JobRequestRejected(Exception):
    """A 4xx other than 401/403/404/429 on a job call (for export/start: a data type Iterable does not know)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _Answer:
    """One exchange with the job API: the response (None when the connection failed) and its body, read whole."""

    response: requests.Response | None
    body: bytes = b""
    cause: str = ""


@dataclass
class JobApiClient:
    """Iterable's job endpoints, every request of the sync through one `budget` (see module docstring); an answer
    whose body takes longer than `JOB_ANSWER_SECONDS` counts as a failed call (`BoundedBody`).

    `refused(method, path, status, message)` words a 401/403 (the runtime checks whether the key works at all)."""

    api_base: str
    api_key: str
    budget: JobCallBudget
    sleep: Sleep = time.sleep
    timeout: tuple[float, float] = JOB_API_TIMEOUT_SECONDS
    session: requests.Session = field(default_factory=requests.Session)
    refused: Callable[[str, str, int, str], AirbyteTracedException] | None = None
    clock: Clock = time.monotonic

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
                internal_message=excerpt(orjson.dumps(answer), self.api_key),
                failure_type=FailureType.system_error,
            )
        return job_id

    def files(self, job_id: int, start_after: str | None) -> JobListing:
        params = {"startAfter": start_after} if start_after else None
        answer = self._call("GET", f"export/{job_id}/files", params=params, missing_ok=True)
        if answer is None:
            raise JobFailed(f"job {job_id} is unknown to Iterable (404)", ended=True)
        try:
            return JobListing.parse(answer)
        except ValueError as error:
            raise AirbyteTracedException(
                message=f"Iterable's export/{job_id}/files answered in an unexpected form ({error}).",
                internal_message=excerpt(orjson.dumps(answer), self.api_key),
                failure_type=FailureType.system_error,
            ) from None

    def jobs(self) -> Any:
        """`GET export/jobs`: the organisation's jobs (to say where a queued job stands)."""
        return self._call("GET", "export/jobs")

    def cancel(self, job_id: int) -> None:
        self._call("DELETE", f"export/{job_id}", missing_ok=True)

    def _call(self, method: str, path: str, missing_ok: bool = False, **kwargs: Any) -> Any:
        rate_limited = failures = 0
        while True:
            answer = self._exchange(method, path, **kwargs)
            response = answer.response
            status = response.status_code if response is not None else 0
            if response is None or status >= 500:
                failures += 1
                cause = answer.cause or f"HTTP {status} {iterable_message(answer.body, self.api_key)}"
                if failures >= REQUEST_TRIES:
                    raise self._gave_up(method, path, failures, cause)
                self.sleep(BACKOFF.wait(failures))
                continue
            if status == 429:
                rate_limited += 1
                if rate_limited >= RATE_LIMITED_TRIES:
                    raise self._kept_rate_limiting(method, path, rate_limited, answer.body)
                continue
            return self._result(method, path, status, answer.body, missing_ok)

    def _exchange(self, method: str, path: str, **kwargs: Any) -> _Answer:
        """Send one request while holding the budget, read its answer whole; a 429 holds the budget back."""
        url = f"{self.api_base}/api/{path}"
        with self.budget.slot() as slot:
            try:
                response = self.session.request(
                    method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs
                )
                response.raw = BoundedBody(response.raw, JOB_ANSWER_SECONDS, self.clock)
                body = self._read_capped(response, method, path)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
                return _Answer(None, cause=error.__class__.__name__)
            except DownloadTooSlow as error:
                response.close()
                return _Answer(None, cause=f"answer {error}")
            if response.status_code == 429:
                slot.pause(rate_limit_wait(response.headers, time.time(), f"{method} {path}"))
        return _Answer(response, body)

    def _result(self, method: str, path: str, status: int, body: bytes, missing_ok: bool) -> Any:
        if status == 404 and missing_ok:
            return None
        message = iterable_message(body, self.api_key) if status >= 300 else ""
        if status in (401, 403):
            if self.refused is not None:
                raise self.refused(method, path, status, message)
            raise AirbyteTracedException(
                message=f"Iterable refused {method} {path} ({message}). {NOT_A_SERVER_KEY}",
                internal_message=f"HTTP {status} on {path}",
                failure_type=FailureType.config_error,
            )
        if status >= 300:
            raise JobRequestRejected(status, f"Iterable rejected {method} {path} with HTTP {status}: {message}")
        if not body:
            return {}
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise AirbyteTracedException(
                message=(f"Iterable's {path} answered with a body that is not JSON: {excerpt(body, self.api_key)!r}."),
                internal_message=f"non-JSON body on {path}",
                failure_type=FailureType.system_error,
            ) from None

    @staticmethod
    def _read_capped(response: requests.Response, method: str, path: str) -> bytes:
        """A job-API answer's body, refusing one over `MAX_JOB_ANSWER_BYTES` (Iterable's are a few KB)."""
        chunks, size = [], 0
        for chunk in response.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            if size > MAX_JOB_ANSWER_BYTES:
                response.close()
                raise AirbyteTracedException(
                    message=(
                        f"Iterable's answer to {method} {path} exceeded {MAX_JOB_ANSWER_BYTES} bytes; the sync stops."
                    ),
                    internal_message=f"oversized answer on {path}",
                    failure_type=FailureType.system_error,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _kept_rate_limiting(self, method: str, path: str, times: int, body: bytes) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=(
                f"Iterable kept answering 429 (rate limit) to {method} export API {path} {times} times in a row: "
                f"{iterable_message(body, self.api_key)}. Another client of the same organisation may be using the "
                "export-jobs API; retry later or set export_mode to sync."
            ),
            internal_message=f"HTTP 429 x{times} on {path}",
            failure_type=FailureType.transient_error,
        )

    @staticmethod
    def _gave_up(method: str, path: str, times: int, cause: str) -> AirbyteTracedException:
        return AirbyteTracedException(
            message=f"Iterable's export API failed {times} times in a row on {method} {path} ({cause}).",
            internal_message=cause,
            failure_type=FailureType.transient_error,
        )
