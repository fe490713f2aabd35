"""Faults the emulator can inject: one small named function per fault, each returning a `Fault`.

A fault applies to requests whose path equals `path` and whose query parameters include every `match` pair
(a value matches when it equals the parameter's first value), for the first `times` matching requests
(`times=None`: every matching request). It wraps the handler: the data set is never edited.

Requests to the export file host are matched with `path=FILE_HOST` and the parameters `dataTypeName`, `jobId` and
`file` (so `drop_mid_body(path=FILE_HOST)` cuts a file download). Export-job faults (`failed_job`,
`truncated_export`, `restarted_job`, `expiring_urls`) are `JobFault`s: they shape a job when it starts (or a file
listing when it is served), matched on the job's `dataTypeName`, `startDateTime`, `endDateTime` as sent.

Faults combine: the emulator offers a request to every fault in injection order until one that answers on its
own (an error status) claims it; the body faults claimed on the way (`drop_mid_body`, `malformed_line`, `stall`)
wrap it and alter only a 200. So `first_attempt_fails` + `drop_mid_body(times=None, cut_only_longer=True)` is
"the first attempt of every URL fails with 500, and every body longer than N lines is cut".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .responses import Response, body_lines, error_response

EXPORT_PATH = "/api/export/data.json"
# The `path` that file-host faults match (the file host's own paths are per file).
FILE_HOST = "file-host"
START_PATH = "/api/export/start"
FILES_PATH = "/api/export/{jobId}/files"
GENERIC_ERROR_MSG = "An error occurred. Please try again later. If problem persists, please contact your CSM"


class DropConnection(Exception):
    """Raised from a response body: the server closes the socket without finishing the response."""


@dataclass
class Fault:
    """One injected misbehaviour: `apply(handler)` returns the response to send instead of `handler()`."""

    name: str
    path: str
    apply: Callable[[Callable[[], Response]], Response]
    match: Mapping[str, str] = field(default_factory=dict)
    times: int | None = 1
    hits: int = 0
    # True for faults that call the handler and alter its answer: later faults may still claim the request.
    passes_through: bool = False
    # An extra condition on (path, params), checked last, under the fault's lock.
    select: Callable[[str, Mapping[str, list[str]]], bool] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim(self, path: str, params: Mapping[str, list[str]]) -> bool:
        """True (and counts one use) when this fault applies to the request."""
        if path != self.path:
            return False
        if any(params.get(key, [None])[0] != str(value) for key, value in self.match.items()):
            return False
        with self._lock:
            if self.times is not None and self.hits >= self.times:
                return False
            if self.select is not None and not self.select(path, params):
                return False
            self.hits += 1
            return True


def distinct_url(path: str, params: Mapping[str, list[str]]) -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """A URL's identity for `first_attempt_fails`: the path and the sorted query (order of parameters ignored)."""
    return path, tuple(sorted((key, tuple(values)) for key, values in params.items()))


def error_500(path: str = EXPORT_PATH, times: int | None = 1, match: Mapping[str, str] | None = None) -> Fault:
    """Answer 500 GenericError (Iterable's body) instead of the data."""

    def apply(handler: Callable[[], Response]) -> Response:
        return error_response(500, "GenericError", GENERIC_ERROR_MSG, params=None)

    return Fault("error_500", path, apply, dict(match or {}), times)


def first_attempt_fails(path: str = EXPORT_PATH, status: int = 500, match: Mapping[str, str] | None = None) -> Fault:
    """The first request of every distinct URL (path + sorted query) answers `status` GenericError; later ones pass."""
    seen: set[tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = set()

    def first_time(request_path: str, params: Mapping[str, list[str]]) -> bool:
        url = distinct_url(request_path, params)
        if url in seen:
            return False
        seen.add(url)
        return True

    def apply(handler: Callable[[], Response]) -> Response:
        return error_response(status, "GenericError", GENERIC_ERROR_MSG, params=None)

    return Fault("first_attempt_fails", path, apply, dict(match or {}), times=None, select=first_time)


def rate_limited(
    path: str = EXPORT_PATH, retry_after: int | None = 1, times: int | None = 1, match: Mapping[str, str] | None = None
) -> Fault:
    """Answer 429 RateLimitExceeded, with a Retry-After header when `retry_after` is given."""

    def apply(handler: Callable[[], Response]) -> Response:
        response = error_response(429, "RateLimitExceeded", f"Exceeded rate limit for endpoint: {path}, project: 8575")
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    return Fault("rate_limited", path, apply, dict(match or {}), times)


def stall(
    path: str = EXPORT_PATH,
    seconds: float = 2.0,
    times: int | None = 1,
    match: Mapping[str, str] | None = None,
    wait: Callable[[float], Any] | None = None,
) -> Fault:
    """Wait `seconds` before the first byte of the response (the emulator's stop interrupts the wait)."""

    def apply(handler: Callable[[], Response]) -> Response:
        (wait or threading.Event().wait)(seconds)
        return handler()

    return Fault("stall", path, apply, dict(match or {}), times, passes_through=True)


def drop_mid_body(
    path: str = EXPORT_PATH,
    after_lines: int = 3,
    times: int | None = 1,
    match: Mapping[str, str] | None = None,
    partial_line: bool = True,
    cut_only_longer: bool = False,
) -> Fault:
    """Send `after_lines` complete lines (plus the first half of the next one), then drop the connection.

    `cut_only_longer`: a body of at most `after_lines` lines is sent whole (so `times=None` cuts every body
    longer than N lines, and a reader that splits windows eventually gets everything)."""

    def apply(handler: Callable[[], Response]) -> Response:
        response = handler()
        if response.status == 200:
            response.body = _dropping(body_lines(response.body), after_lines, partial_line, cut_only_longer)
        return response

    return Fault("drop_mid_body", path, apply, dict(match or {}), times, passes_through=True)


def malformed_line(
    path: str = EXPORT_PATH,
    after_lines: int = 1,
    line: bytes = b'{"createdAt": "2025-03-04 05:06:07 +00:00", "em\n',
    times: int | None = 1,
    match: Mapping[str, str] | None = None,
) -> Fault:
    """Insert a line that is not valid JSON after `after_lines` good lines."""

    def apply(handler: Callable[[], Response]) -> Response:
        response = handler()
        if response.status == 200:
            response.body = _inserting(body_lines(response.body), after_lines, line)
        return response

    return Fault("malformed_line", path, apply, dict(match or {}), times, passes_through=True)


def file_drop_mid_body(
    after_lines: int = 3, times: int | None = 1, match: Mapping[str, str] | None = None, partial_line: bool = True
) -> Fault:
    """The file host sends `after_lines` lines of a file (plus half the next), then closes the connection."""
    fault = drop_mid_body(FILE_HOST, after_lines, times, match, partial_line)
    fault.name = "file_drop_mid_body"
    return fault


@dataclass
class JobFault:
    """One injected export-job misbehaviour: `change` sets fields of the job's plan (at `stage` "start") or of
    one file listing (at `stage` "files"), for the first `times` matching jobs or listings.

    A job matches when every `match` pair equals the start request's field as sent and, with `longer_than_days`,
    when its range (endDateTime - startDateTime) is longer than that many days.
    """

    name: str
    stage: str
    change: Mapping[str, Any]
    match: Mapping[str, str] = field(default_factory=dict)
    times: int | None = 1
    longer_than_days: float | None = None
    hits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def path(self) -> str:
        return START_PATH if self.stage == "start" else FILES_PATH

    def claim(self, stage: str, fields: Mapping[str, str], range_days: float) -> bool:
        """True (and counts one use) when this fault applies to the job or listing."""
        if stage != self.stage or any(fields.get(key) != str(value) for key, value in self.match.items()):
            return False
        if self.longer_than_days is not None and range_days <= self.longer_than_days:
            return False
        with self._lock:
            if self.times is not None and self.hits >= self.times:
                return False
            self.hits += 1
            return True


def failed_job(after_files: int = 0, times: int | None = 1, match: Mapping[str, str] | None = None) -> JobFault:
    """The job produces `after_files` files, then ends `Failed` (its listed files stay listed)."""
    return JobFault("failed_job", "start", {"fail_after_files": after_files}, dict(match or {}), times)


def truncated_export(
    longer_than_days: float = 30, keep_files: int = 1, times: int | None = None, match: Mapping[str, str] | None = None
) -> JobFault:
    """A job whose range is longer than `longer_than_days` keeps only its first `keep_files` files and reports
    `exportTruncated: true` once Completed (Iterable's 100 GB cap), so halving the range resolves it."""
    return JobFault("truncated_export", "start", {"keep_files": keep_files}, dict(match or {}), times, longer_than_days)


def restarted_job(
    after_files: int = 1, seconds: float = 5.0, times: int | None = 1, match: Mapping[str, str] | None = None
) -> JobFault:
    """A running job goes back to `Enqueued` after `after_files` files for `seconds` (time-scaled), then runs on
    from where it stopped (the swagger: "the job maintains progress")."""
    return JobFault(
        "restarted_job",
        "start",
        {"restart_after_files": after_files, "restart_seconds": seconds},
        dict(match or {}),
        times,
    )


def expiring_urls(seconds: float = 0.0, times: int | None = 1, match: Mapping[str, str] | None = None) -> JobFault:
    """The file URLs of the next `times` matching listings expire `seconds` after they are served (0: at once)."""
    return JobFault("expiring_urls", "files", {"url_ttl_seconds": seconds}, dict(match or {}), times)


FAULTS: dict[str, Callable[..., Fault | JobFault]] = {
    "error_500": error_500,
    "first_attempt_fails": first_attempt_fails,
    "rate_limited": rate_limited,
    "stall": stall,
    "drop_mid_body": drop_mid_body,
    "malformed_line": malformed_line,
    "file_drop_mid_body": file_drop_mid_body,
    "failed_job": failed_job,
    "truncated_export": truncated_export,
    "restarted_job": restarted_job,
    "expiring_urls": expiring_urls,
}


def from_spec(spec: Mapping[str, Any]) -> Fault | JobFault:
    """Build a fault from a JSON spec: {"fault": "<name>", "path": ..., "match": {...}, "times": ..., ...}."""
    arguments = dict(spec)
    name = arguments.pop("fault")
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {sorted(FAULTS)}")
    if "line" in arguments:
        arguments["line"] = arguments["line"].encode()
    return FAULTS[name](**arguments)


def _dropping(lines: Iterator[bytes], after_lines: int, partial_line: bool, cut_only_longer: bool) -> Iterator[bytes]:
    for count, line in enumerate(lines):
        if count == after_lines:
            if partial_line:
                yield line[: max(1, len(line) // 2)]
            raise DropConnection()
        yield line
    if not cut_only_longer:
        raise DropConnection()


def _inserting(lines: Iterator[bytes], after_lines: int, bad_line: bytes) -> Iterator[bytes]:
    inserted = False
    for count, line in enumerate(lines):
        if count == after_lines:
            yield bad_line
            inserted = True
        yield line
    if not inserted:
        yield bad_line
