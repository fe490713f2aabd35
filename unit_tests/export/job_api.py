"""A stand-in for Iterable's export-jobs API and its file host on requests-mock, on a fake clock.

Each job follows a script: the n-th `files` call of a job sees `steps[n]` (the last step repeats): a state and how
many of the job's files exist so far. Pages hold `page_size` files. The file host answers 403 to a request carrying
`Api-Key`, and to the URL of the first listing of a file named in `expire_first_url`; it cuts the body of a file
named in `cut_once` the first time (after half of its lines).
"""

import io
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import requests_mock

API = "https://api.iterable.com"
FILES = "https://files.example.com"


class FakeClock:
    """Monotonic seconds that only move when somebody sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)


@dataclass
class Step:
    state: str
    visible: int
    truncated: bool = False


@dataclass
class FakeJob:
    job_id: int
    body: dict[str, Any]
    files: list[tuple[str, bytes]]
    steps: list[Step]
    listings: int = 0
    generation: int = 0
    first_listed: dict[str, int] = field(default_factory=dict)  # file -> generation of its first listing


class _CutBody(io.RawIOBase):
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def readable(self) -> bool:
        return True

    def read1(self, size: int = -1) -> bytes:
        return self.read(size)

    def readinto(self, buffer: Any) -> int:
        if self._position >= len(self._data):
            raise ConnectionResetError("Connection reset by peer")
        size = min(len(buffer), len(self._data) - self._position)
        buffer[:size] = self._data[self._position : self._position + size]
        self._position += size
        return size


def lines(*records: dict[str, Any]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


class FakeJobApi:
    """Jobs are created by `POST export/start` from the scripts queued with `plan(...)`, in order."""

    def __init__(self, clock: FakeClock, page_size: int = 2) -> None:
        self.clock = clock
        self.page_size = page_size
        self.jobs: dict[int, FakeJob] = {}
        self.planned: list[tuple[list[tuple[str, bytes]], list[Step]]] = []
        self.log: list[tuple[float, str, str]] = []  # (clock, METHOD, path?query) of every API call
        self.file_requests: list[Any] = []
        self.wire: list[str] = []  # every request in order: "POST /api/export/start", "FILE f1", …
        self.expire_first_url: set[str] = set()
        self.cut_once: set[str] = set()
        self.next_id = 100
        self.rate_limited_next: list[str] = []  # Retry-After values for the next API calls
        self.ignore_start_after = False  # list every file from the first, whatever `startAfter` says
        self.content_types: dict[str, str] = {}  # file name -> Content-Type of its body (default: JSON lines)
        self.listed_jobs: list[dict[str, Any]] | None = None  # GET export/jobs (default: the jobs started, Enqueued)

    def plan(self, files: list[tuple[str, bytes]], *steps: Step) -> None:
        self.planned.append((files, list(steps)))

    def install(self, mocker: requests_mock.Mocker) -> "FakeJobApi":
        mocker.post(f"{API}/api/export/start", json=self._start)
        mocker.get(re.compile(rf"{API}/api/export/\d+/files"), json=self._files)
        mocker.delete(re.compile(rf"{API}/api/export/\d+$"), json=self._cancel)
        mocker.get(f"{API}/api/export/jobs", json=self._list_jobs)
        mocker.get(re.compile(rf"{FILES}/.*"), body=self._file)
        return self

    def _logged(self, request: Any, context: Any) -> bool:
        path = urlsplit(request.url)
        self.log.append((self.clock(), request.method, path.path + (f"?{path.query}" if path.query else "")))
        self.wire.append(f"{request.method} {self.log[-1][2]}")
        if self.rate_limited_next:
            context.status_code = 429
            context.headers["Retry-After"] = self.rate_limited_next.pop(0)
            return True
        return False

    def _start(self, request: Any, context: Any) -> Any:
        if self._logged(request, context):
            return {"msg": "slow down", "code": "RateLimitExceeded"}
        files, steps = self.planned.pop(0)
        job = FakeJob(self.next_id, request.json(), files, steps)
        self.jobs[job.job_id] = job
        self.next_id += 1
        return {"jobId": job.job_id}

    def _files(self, request: Any, context: Any) -> Any:
        if self._logged(request, context):
            return {"msg": "slow down", "code": "RateLimitExceeded"}
        job = self.jobs[int(request.path.split("/")[3])]
        after = parse_qs(urlsplit(request.url).query).get("startAfter", [None])[0]
        job.listings += 1
        job.generation += 1
        step = job.steps[min(job.listings, len(job.steps)) - 1]
        names = [name for name, _ in job.files[: step.visible]]
        if after is not None and not self.ignore_start_after:
            names = [name for name in names if name > after]
        page = names[: self.page_size]
        for name in page:
            job.first_listed.setdefault(name, job.generation)
        return {
            "jobId": job.job_id,
            "jobState": step.state,
            "exportTruncated": step.truncated,
            "files": [{"file": name, "url": f"{FILES}/{job.job_id}/{name}?g={job.generation}"} for name in page],
        }

    def _list_jobs(self, request: Any, context: Any) -> Any:
        self._logged(request, context)
        if self.listed_jobs is not None:
            return {"jobs": self.listed_jobs}
        return {"jobs": [{"id": job.job_id, "jobState": "Enqueued"} for job in self.jobs.values()]}

    def _cancel(self, request: Any, context: Any) -> Any:
        self._logged(request, context)
        return {"msg": "", "code": "Success"}

    def _file(self, request: Any, context: Any) -> Any:
        self.file_requests.append(request)
        _, job_id, name = urlsplit(request.url).path.split("/")
        self.wire.append(f"FILE {name}")
        if "Api-Key" in request.headers:
            context.status_code = 403
            return io.BytesIO(b"<Error>Api-Key not allowed</Error>")
        job = self.jobs[int(job_id)]
        generation = int(parse_qs(urlsplit(request.url).query)["g"][0])
        if name in self.expire_first_url and generation == job.first_listed[name]:
            context.status_code = 403
            return io.BytesIO(b"<Error><Message>Request has expired</Message></Error>")
        data = dict(job.files)[name]
        if name in self.content_types:
            context.headers["Content-Type"] = self.content_types[name]
        if name in self.cut_once:
            self.cut_once.discard(name)
            half = data[: data.index(b"\n", len(data) // 2) + 1]
            return _CutBody(half + b"\n" * 70_000)  # blank lines: the half reaches the decoder before the error
        return io.BytesIO(data)

    def calls(self, method: str, fragment: str) -> list[str]:
        return [path for _, verb, path in self.log if verb == method and fragment in path]
