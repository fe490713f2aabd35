"""Faults the emulator can inject: one small named function per fault, each returning a `Fault`.

A fault applies to requests whose path equals `path` and whose query parameters include every `match` pair
(a value matches when it equals the parameter's first value), for the first `times` matching requests
(`times=None`: every matching request). It wraps the handler: the data set is never edited.

Faults combine: the emulator offers a request to every fault in injection order until one that answers on its
own (an error status) claims it; the body faults claimed on the way (`drop_mid_body`, `malformed_line`, `stall`)
wrap it and alter only a 200. So `first_attempt_fails` + `drop_mid_body(times=None, cut_only_longer=True)` is
"the first attempt of every URL fails with 500, and every body longer than N lines is cut".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .responses import Response, error_response

EXPORT_PATH = "/api/export/data.json"
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
    path: str = EXPORT_PATH, seconds: float = 2.0, times: int | None = 1, match: Mapping[str, str] | None = None,
    wait: Callable[[float], Any] | None = None,
) -> Fault:
    """Wait `seconds` before the first byte of the response (the emulator's stop interrupts the wait)."""

    def apply(handler: Callable[[], Response]) -> Response:
        (wait or threading.Event().wait)(seconds)
        return handler()

    return Fault("stall", path, apply, dict(match or {}), times, passes_through=True)


def drop_mid_body(
    path: str = EXPORT_PATH, after_lines: int = 3, times: int | None = 1, match: Mapping[str, str] | None = None,
    partial_line: bool = True, cut_only_longer: bool = False,
) -> Fault:
    """Send `after_lines` complete lines (plus the first half of the next one), then drop the connection.

    `cut_only_longer`: a body of at most `after_lines` lines is sent whole (so `times=None` cuts every body
    longer than N lines, and a reader that splits windows eventually gets everything)."""

    def apply(handler: Callable[[], Response]) -> Response:
        response = handler()
        if response.status == 200:
            response.body = _dropping(_lines(response.body), after_lines, partial_line, cut_only_longer)
        return response

    return Fault("drop_mid_body", path, apply, dict(match or {}), times, passes_through=True)


def malformed_line(
    path: str = EXPORT_PATH, after_lines: int = 1, line: bytes = b'{"createdAt": "2025-03-04 05:06:07 +00:00", "em\n',
    times: int | None = 1, match: Mapping[str, str] | None = None,
) -> Fault:
    """Insert a line that is not valid JSON after `after_lines` good lines."""

    def apply(handler: Callable[[], Response]) -> Response:
        response = handler()
        if response.status == 200:
            response.body = _inserting(_lines(response.body), after_lines, line)
        return response

    return Fault("malformed_line", path, apply, dict(match or {}), times, passes_through=True)


FAULTS: dict[str, Callable[..., Fault]] = {
    "error_500": error_500,
    "first_attempt_fails": first_attempt_fails,
    "rate_limited": rate_limited,
    "stall": stall,
    "drop_mid_body": drop_mid_body,
    "malformed_line": malformed_line,
}


def from_spec(spec: Mapping[str, Any]) -> Fault:
    """Build a fault from a JSON spec: {"fault": "<name>", "path": ..., "match": {...}, "times": ..., ...}."""
    arguments = dict(spec)
    name = arguments.pop("fault")
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {sorted(FAULTS)}")
    if "line" in arguments:
        arguments["line"] = arguments["line"].encode()
    return FAULTS[name](**arguments)


def _lines(body: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """The body line by line, whether it is bytes, an iterable of lines, or of multi-line chunks (a replayed file)."""
    chunks = [body] if isinstance(body, bytes) else body
    pending = b""
    for chunk in chunks:
        *complete, pending = (pending + chunk).split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending


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
