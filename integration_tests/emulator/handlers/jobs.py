"""Iterable's asynchronous export jobs: `POST export/start`, `GET export/{jobId}/files`, `DELETE export/{jobId}`,
`GET export/jobs` (swagger "export" tag), and the pre-signed file URLs the file host serves.

A job's records are exactly what `export/data.json` serves for the same query (same rendering, same order), split
at line boundaries into files of at most `file_bytes`, written to disk when the job is started. Time is simulated
from the emulator's clock, lazily on every call: a job waits `queue_seconds` Enqueued, then takes one of
`max_running` slots (later jobs stay Enqueued until a slot frees), shows its first file `startup_seconds` after it
starts running and one more every `seconds_per_file`, and is Completed when its last file is listed. Every
duration is multiplied by `time_scale`, so a test or a benchmark runs Iterable's timing in seconds.

Not in the swagger, chosen here: a cancelled job is `Cancelled`, a finished job cannot be cancelled (400), the job
list is newest first, `exportTruncated` turns true when a truncated job completes, and a listing holds at most
`files_page_size` files (Iterable's page size is not documented).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..faults import JobFault
from ..responses import BadRequest, Response, body_lines, json_response
from . import export
from .request import Request

JSON_FORMAT = "application/x-json-stream"
CSV_FORMAT = "text/csv"
OUTPUT_FORMATS = (CSV_FORMAT, JSON_FORMAT)

ENQUEUED, RUNNING, COMPLETED, FAILED, CANCELLED = "Enqueued", "Running", "Completed", "Failed", "Cancelled"
STATES = (ENQUEUED, RUNNING, COMPLETED, FAILED, CANCELLED)


@dataclass(frozen=True)
class ExportJobSettings:
    """How the emulated export-job service behaves; the defaults are Iterable's documented limits.

    state_spelling: "Title" serves the swagger's `Enqueued`/`Running`/...; "lower" serves `enqueued`/`running`/...
    (both are seen in the wild). Durations are in Iterable seconds, multiplied by `time_scale`.
    """

    file_bytes: int = 10 * 1024 * 1024
    files_page_size: int = 100
    max_running: int = 4
    queue_seconds: float = 1.0
    startup_seconds: float = 2.0
    seconds_per_file: float = 2.0
    time_scale: float = 1.0
    state_spelling: str = "Title"
    url_ttl_seconds: float = 1800.0

    def __post_init__(self) -> None:
        if self.state_spelling not in ("Title", "lower"):
            raise ValueError(f"state_spelling must be 'Title' or 'lower', not {self.state_spelling!r}")
        if self.file_bytes < 1 or self.files_page_size < 1 or self.max_running < 1:
            raise ValueError("file_bytes, files_page_size and max_running must be at least 1")


@dataclass(frozen=True)
class JobPlan:
    """What faults decided for one job at its start."""

    fail_after_files: int | None = None
    keep_files: int | None = None
    restart_after_files: int | None = None
    restart_seconds: float = 0.0


@dataclass(frozen=True)
class JobFile:
    name: str
    path: Path
    size: int
    lines: int


@dataclass
class ExportJob:
    """One job and its simulated timeline (clock seconds); `started` is None while it waits for a slot."""

    id: int
    fields: dict[str, str]
    query: export.ExportQuery
    output_format: str
    created: float
    files: list[JobFile]
    plan: JobPlan
    truncated: bool
    started: float | None = None
    ready: list[float] = field(default_factory=list)
    ends: float = 0.0
    restart: tuple[float, float] | None = None
    cancelled: float | None = None

    @property
    def finish(self) -> float:
        """When the job stops holding a slot."""
        return self.ends if self.cancelled is None else min(self.ends, self.cancelled)

    def state(self, now: float) -> str:
        if self.cancelled is not None and now >= self.cancelled:
            return CANCELLED
        if self.started is None or now < self.started:
            return ENQUEUED
        if self.restart is not None and self.restart[0] <= now < self.restart[1]:
            return ENQUEUED
        if now < self.ends:
            return RUNNING
        return FAILED if self.plan.fail_after_files is not None else COMPLETED

    def listed(self, now: float) -> list[JobFile]:
        until = now if self.cancelled is None else min(now, self.cancelled)
        return [file for file, ready in zip(self.files, self.ready, strict=False) if ready <= until]


@dataclass(frozen=True)
class JobView:
    """A job as tests see it (canonical state names; times on the emulator's clock, None before it runs)."""

    id: int
    data_type: str
    start_date_time: str | None
    end_date_time: str | None
    state: str
    files_listed: int
    files_total: int
    truncated: bool
    started_at: float | None
    ends_at: float | None
    files_ready_at: tuple[float, ...]


class ExportJobs:
    """The organization's export jobs, their files on disk, and the signing of file URLs. Thread-safe."""

    def __init__(self, settings: ExportJobSettings, clock: Callable[[], float], wall_clock: Callable[[], float]):
        self.settings = settings
        self.counters: Counter[str] = Counter()
        self.peak_running = 0
        self.file_host_url = ""
        self._clock = clock
        self._wall_offset = wall_clock() - clock()
        self._jobs: dict[int, ExportJob] = {}
        self._faults: list[JobFault] = []
        self._next_id = 3562
        self._secret = hashlib.sha256(f"{id(self)}:{wall_clock()}".encode()).digest()
        self._directory: Path | None = None
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ lifecycle and controls
    def open(self) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="iterable-emulator-jobs-"))

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def inject(self, fault: JobFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def now(self) -> float:
        return self._clock()

    def count(self, name: str) -> None:
        with self._lock:
            self.counters[name] += 1

    def snapshot(self) -> list[JobView]:
        """Every job, oldest first, as of now."""
        with self._lock:
            now = self._clock()
            self._advance(now)
            return [
                JobView(
                    job.id,
                    job.fields["dataTypeName"],
                    job.fields.get("startDateTime"),
                    job.fields.get("endDateTime"),
                    job.state(now),
                    len(job.listed(now)),
                    len(job.files),
                    job.truncated,
                    job.started,
                    job.finish if job.started is not None else None,
                    tuple(job.ready),
                )
                for job in self._jobs.values()
            ]

    # ------------------------------------------------------------------ the API
    def start(
        self, fields: dict[str, str], query: export.ExportQuery, output_format: str, body: Callable[[], Iterable[bytes]]
    ) -> int:
        if self._directory is None:
            raise RuntimeError("ExportJobs.open() was not called")
        range_days = (query.end - query.start).total_seconds() / 86400
        with self._lock:
            plan = JobPlan()
            for fault in self._claim("start", fields, range_days):
                plan = replace(plan, **fault.change)
            job_id = self._next_id
            self._next_id += 1
        directory = self._directory / str(job_id)
        directory.mkdir()
        extension = "json" if output_format == JSON_FORMAT else "csv"
        files = _write_files(
            body(), directory, f"{query.data_type}_{job_id}_{{:05d}}.{extension}", self.settings.file_bytes
        )
        truncated = plan.keep_files is not None
        if truncated:
            files = files[: plan.keep_files]
        with self._lock:
            self._jobs[job_id] = ExportJob(job_id, fields, query, output_format, self._clock(), files, plan, truncated)
            self.counters["jobs_started"] += 1
        return job_id

    def listing(self, job_id: int, start_after: str | None) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            self._advance(now)
            job = self._job(job_id)
            ttl = self.settings.url_ttl_seconds
            for fault in self._claim("files", {**job.fields, "jobId": str(job_id)}, 0.0):
                ttl = fault.change["url_ttl_seconds"]
            state = job.state(now)
            files = [file for file in job.listed(now) if start_after is None or file.name > start_after]
            page = files[: self.settings.files_page_size]
            self.counters["files_listings"] += 1
            return {
                "jobId": job_id,
                "jobState": self._spell(state),
                "exportTruncated": job.truncated and state == COMPLETED,
                "files": [{"file": file.name, "url": self._sign(job_id, file.name, now + ttl)} for file in page],
            }

    def cancel(self, job_id: int) -> None:
        with self._lock:
            now = self._clock()
            self._advance(now)
            job = self._job(job_id)
            state = job.state(now)
            if state not in (ENQUEUED, RUNNING):
                raise BadRequest(
                    f"Export job {job_id} has already finished ({self._spell(state)}) and cannot be cancelled"
                )
            job.cancelled = now
            self.counters["jobs_cancelled"] += 1

    def jobs(self, state_filter: str | None) -> list[dict[str, Any]]:
        with self._lock:
            now = self._clock()
            self._advance(now)
            rows = []
            for job in sorted(self._jobs.values(), key=lambda job: job.id, reverse=True):
                state = job.state(now)
                if state_filter and state.lower() != state_filter.lower():
                    continue
                row: dict[str, Any] = {
                    "id": job.id,
                    "dataTypeName": job.fields["dataTypeName"],
                    "jobState": self._spell(state),
                    "scheduledStartTime": self._iso(job.created),
                    "bytesExported": sum(file.size for file in job.listed(now)),
                }
                if state in (COMPLETED, FAILED, CANCELLED):
                    row["endTime"] = self._iso(job.finish)
                rows.append(row)
            return rows

    # ------------------------------------------------------------------ the file host's side
    def signed_file(self, job_id: str, name: str, expires: str, signature: str) -> tuple[str, JobFile | None]:
        """Check a pre-signed URL: ("ok", file), ("signature", None), ("expired", None) or ("missing", None)."""
        expected = self._signature(job_id, name, expires)
        if not hmac.compare_digest(expected, signature):
            return "signature", None
        try:
            expiry = float(expires)
        except ValueError:
            return "signature", None
        if self._clock() >= expiry:
            return "expired", None
        with self._lock:
            job = self._jobs.get(int(job_id)) if job_id.isdigit() else None
            file = next((f for f in job.files if f.name == name), None) if job else None
        return ("ok", file) if file is not None else ("missing", None)

    def data_type_of(self, job_id: str) -> str:
        with self._lock:
            job = self._jobs.get(int(job_id)) if job_id.isdigit() else None
            return job.fields["dataTypeName"] if job else ""

    # ------------------------------------------------------------------ internals
    def _claim(self, stage: str, fields: Mapping[str, str], range_days: float) -> list[JobFault]:
        return [fault for fault in list(self._faults) if fault.claim(stage, fields, range_days)]

    def _job(self, job_id: int) -> ExportJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise BadRequest(f"Export job {job_id} not found", code="NotFound", status=404)
        return job

    def _advance(self, now: float) -> None:
        """Give free slots to waiting jobs, oldest first, at the moments the slots freed (up to `now`)."""
        scale = self.settings.time_scale
        while True:
            waiting = [job for job in self._jobs.values() if job.started is None and job.cancelled is None]
            if not waiting:
                return
            job = min(waiting, key=lambda job: job.id)
            eligible = job.created + self.settings.queue_seconds * scale
            busy = sorted(
                other.finish for other in self._jobs.values() if other.started is not None and other.finish > eligible
            )
            begins = eligible if len(busy) < self.settings.max_running else busy[len(busy) - self.settings.max_running]
            if begins > now:
                return
            self._schedule(job, begins)
            running = sum(
                1
                for other in self._jobs.values()
                if other.started is not None and other.started <= begins < other.finish
            )
            self.peak_running = max(self.peak_running, running)

    def _schedule(self, job: ExportJob, begins: float) -> None:
        """Fix the job's timeline once it takes a slot: when each file is listed, any restart, when it ends."""
        scale, plan = self.settings.time_scale, job.plan
        job.started = begins
        produced = len(job.files) if plan.fail_after_files is None else min(len(job.files), plan.fail_after_files)
        first = begins + self.settings.startup_seconds * scale
        step = self.settings.seconds_per_file * scale
        ready = [first + index * step for index in range(produced)]
        ends = (ready[-1] if ready else first) + (step if plan.fail_after_files is not None else 0.0)
        restart_at = plan.restart_after_files
        if restart_at is not None and restart_at <= produced:
            # Halfway between the last file before the restart (or the start) and the next one.
            previous = ready[restart_at - 1] if restart_at else begins
            at = (previous + (ready[restart_at] if restart_at < produced else ends)) / 2
            pause = plan.restart_seconds * scale
            job.restart = (at, at + pause)
            ready = [moment + pause if index >= restart_at else moment for index, moment in enumerate(ready)]
            ends = max(ends, at) + pause
        job.ready = ready + [float("inf")] * (len(job.files) - produced)
        job.ends = ends

    def _spell(self, state: str) -> str:
        return state.lower() if self.settings.state_spelling == "lower" else state

    def _iso(self, moment: float) -> str:
        return datetime.fromtimestamp(moment + self._wall_offset, timezone.utc).isoformat(timespec="milliseconds")

    def _signature(self, job_id: str, name: str, expires: str) -> str:
        return hmac.new(self._secret, f"{job_id}/{name}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def _sign(self, job_id: int, name: str, expires: float) -> str:
        stamp = f"{expires:.3f}"
        signature = self._signature(str(job_id), name, stamp)
        return f"{self.file_host_url}/{job_id}/{name}?Expires={stamp}&Signature={signature}"


def _write_files(chunks: Iterable[bytes], directory: Path, pattern: str, limit: int) -> list[JobFile]:
    """Split a body into files of at most `limit` bytes at line boundaries (a longer line gets a file of its own)."""
    files: list[JobFile] = []

    def write(content: bytes) -> None:
        path = directory / pattern.format(len(files))
        path.write_bytes(content)
        files.append(JobFile(path.name, path, len(content), content.count(b"\n")))

    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) > limit:
            cut = buffer.rfind(b"\n", 0, limit)
            if cut == -1:
                cut = buffer.find(b"\n", limit)
                if cut == -1:
                    break
            write(bytes(buffer[: cut + 1]))
            del buffer[: cut + 1]
    if buffer:
        write(bytes(buffer))
    return files


def _csv_body(lines: Iterable[bytes], delimiter: str) -> Iterator[bytes]:
    """The records as CSV: a header of every top-level field (sorted), nested values as JSON.

    Iterable's CSV columns are not documented; the connector reads JSON. This is enough to serve the format.
    """
    records = [json.loads(line) for line in lines]
    columns = sorted({key for record in records for key in record})
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    yield text.getvalue().encode()
    for record in records:
        text.seek(0)
        text.truncate()
        writer.writerow([_csv_cell(record.get(column)) for column in columns])
        yield text.getvalue().encode()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value).lower() if isinstance(value, bool) else str(value)


# ---------------------------------------------------------------------- handlers
def start_export(request: Request) -> Response:
    jobs = _service(request)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        raise BadRequest("Could not parse request body as JSON", code="BadJsonBody") from None
    if not isinstance(body, dict):
        raise BadRequest("Request body must be a JSON object", code="BadJsonBody")
    fields: dict[str, str] = {}
    for name in (
        "dataTypeName",
        "outputFormat",
        "startDateTime",
        "endDateTime",
        "onlyFields",
        "omitFields",
        "campaignId",
        "delimiter",
    ):
        value = body.get(name)
        if value is None:
            continue
        if name == "campaignId" and not isinstance(value, bool) and isinstance(value, int):
            value = str(value)
        if not isinstance(value, str):
            raise BadRequest(
                f"Invalid {name}: expected a {'number' if name == 'campaignId' else 'string'}", code="BadJsonBody"
            )
        fields[name] = value
    if len(fields.get("delimiter", ",")) != 1:
        raise BadRequest(f"Invalid delimiter: {fields['delimiter']!r}. Expected one character")
    output_format = fields.get("outputFormat")
    if not output_format:
        raise BadRequest("Missing required parameter outputFormat")
    if output_format not in OUTPUT_FORMATS:
        raise BadRequest(f"Invalid outputFormat: {output_format}. Expected one of {', '.join(OUTPUT_FORMATS)}")
    params = {name: [value] for name, value in fields.items() if name != "outputFormat"}
    if "startDateTime" not in fields and "endDateTime" not in fields:
        params["range"] = ["All"]
    query = export.parse_export_query(replace(request, params=params))

    def rendered() -> Iterable[bytes]:
        lines = export.body(request.dataset, query, request.options.export_cache)
        return lines if output_format == JSON_FORMAT else _csv_body(body_lines(lines), fields.get("delimiter", ","))

    return json_response({"jobId": jobs.start(fields, query, output_format, rendered)})


def job_files(request: Request) -> Response:
    return json_response(_service(request).listing(_job_id(request), request.first("startAfter")))


def cancel_export(request: Request) -> Response:
    job_id = _job_id(request)
    _service(request).cancel(job_id)
    return json_response({"msg": f"Cancelled export job {job_id}", "code": "Success", "params": None})


def list_jobs(request: Request) -> Response:
    return json_response({"jobs": _service(request).jobs(request.first("jobState"))})


def _service(request: Request) -> ExportJobs:
    if request.options.export_jobs is None:
        raise RuntimeError("the emulator was built without its export-job service")
    return request.options.export_jobs


def _job_id(request: Request) -> int:
    raw = request.path_params["jobId"]
    if not raw.isdigit():
        raise BadRequest(f"Invalid jobId: {raw}. Expected an integer")
    return int(raw)
