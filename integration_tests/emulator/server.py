"""The emulator's HTTP server: route table, Api-Key check, per-endpoint rate limits, faults, request log.

Standard library only: a ThreadingHTTPServer on 127.0.0.1 speaking HTTP/1.1 (keep-alive, chunked export bodies).
The Host header is ignored, so US and EU hosts' paths answer the same.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import functools
import json
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from . import faults as fault_library
from .dataset import Dataset
from .faults import DropConnection, Fault, JobFault
from .file_host import FileHost, FileHostRequest
from .handlers import export, jobs, rest
from .handlers.request import Options, Request
from .responses import BadRequest, Response, error_response, json_response

# Iterable rejects request URIs (path and query) longer than this, with an HTML body.
MAX_URI_LENGTH = 2048
_URI_TOO_LONG = (
    b"<html><head><title>414 Request-URI Too Large</title></head><body><h1>414 Request-URI Too Large</h1></body></html>"
)

# Iterable's limits (iterable-api.md; users/forgotten* from the API definition), by rate-limit name: (calls, seconds).
# Enforced per emulator instance.
REAL_RATE_LIMITS: dict[str, tuple[int, float]] = {
    "export": (4, 60),
    "lists_getUsers": (5, 60),
    "campaigns_metrics": (10, 60),
    "users_getFields": (3, 1),
    "users_forgotten": (3, 1),
    "export_jobs": (1, 1),
    "default": (100, 1),
}


def scaled_rate_limits(factor: float) -> dict[str, tuple[int, float]]:
    """Iterable's limits with every window `factor` times shorter: a benchmark's time runs `factor` times faster."""
    return {name: (calls, seconds / factor) for name, (calls, seconds) in REAL_RATE_LIMITS.items()}


# The named limits whose 429 carries a Retry-After header (seconds until the window has room).
_RETRY_AFTER_LIMITS = frozenset({"export_jobs"})

Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    rate_limit: str = "default"
    export: bool = False


def _route(
    path: str, handler: Handler, rate_limit: str = "default", export_endpoint: bool = False, method: str = "GET"
) -> Route:
    pattern = re.compile("^/api/" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
    return Route(method, pattern, handler, rate_limit, export_endpoint)


ROUTES: tuple[Route, ...] = (
    _route("campaigns", rest.campaigns),
    _route("campaigns/metrics", rest.campaign_metrics, "campaigns_metrics"),
    # The definition states no rate limit for experiments/metrics: the default one.
    _route("experiments/metrics", rest.experiment_metrics),
    _route("channels", rest.channels),
    _route("lists", rest.lists),
    _route("lists/getUsers", rest.list_users, "lists_getUsers"),
    _route("messageTypes", rest.message_types),
    _route("metadata", rest.metadata_tables),
    _route("metadata/{table}", rest.metadata_keys),
    _route("metadata/{table}/{key}", rest.metadata_value),
    _route("templates", rest.templates),
    _route("templates/email/get", rest.template_content("email")),
    _route("templates/push/get", rest.template_content("push")),
    _route("templates/sms/get", rest.template_content("sms")),
    _route("templates/inapp/get", rest.template_content("inapp")),
    _route("templates/embedded/get", rest.template_content("embedded")),
    _route("catalogs", rest.catalogs),
    _route("catalogs/{catalog}/items", rest.catalog_items),
    _route("catalogs/{catalog}/fieldMappings", rest.catalog_field_mappings),
    _route("journeys", rest.journeys),
    _route("snippets", rest.snippets),
    _route("webhooks", rest.webhooks),
    _route("users/getFields", rest.user_fields, "users_getFields"),
    _route("users/forgotten", rest.forgotten_emails, "users_forgotten"),
    _route("users/forgottenUserIds", rest.forgotten_user_ids, "users_forgotten"),
    _route("export/data.json", export.export_json, "export", export_endpoint=True),
    _route("export/start", jobs.start_export, "export_jobs", export_endpoint=True, method="POST"),
    _route("export/jobs", jobs.list_jobs, "export_jobs", export_endpoint=True),
    _route("export/{jobId}/files", jobs.job_files, "export_jobs", export_endpoint=True),
    _route("export/{jobId}", jobs.cancel_export, "export_jobs", export_endpoint=True, method="DELETE"),
)


@dataclass
class LoggedRequest:
    """One request as the emulator saw it; the Api-Key is never kept, only whether it matched."""

    method: str
    path: str
    params: dict[str, list[str]]
    status: int
    key_ok: bool
    at: float


class RateLimiter:
    """Strict sliding-window call counts on arrival time, like Iterable: the limit comes from a rate-limit name,
    the count is kept per bucket. A call is allowed when fewer than `calls` accepted calls arrived in the closed
    interval [at − seconds, at]: a call exactly `seconds` after the first of a full window is still refused.
    Refused calls are not counted."""

    def __init__(self, limits: Mapping[str, tuple[int, float]], clock: Callable[[], float]) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, name: str, bucket: str, at: float | None = None) -> bool:
        """`at`: the call's arrival on the emulator's clock (now when not given)."""
        limit = self._limits.get(name)
        if limit is None:
            return True
        calls, seconds = limit
        arrived = self._clock() if at is None else at
        with self._lock:
            window = self._calls.setdefault(bucket, deque())
            while window and window[0] < arrived - seconds:
                window.popleft()
            if sum(1 for moment in window if moment <= arrived) >= calls:
                return False
            # Threads may get here out of arrival order: keep the window sorted.
            position = bisect.bisect_right(window, arrived)
            window.insert(position, arrived)
            return True

    def retry_after(self, name: str, bucket: str) -> int:
        """Whole seconds until the bucket's window has room again (at least 1)."""
        seconds = self._limits[name][1]
        now = self._clock()
        with self._lock:
            window = self._calls.get(bucket) or deque([now])
            return max(1, math.ceil(window[0] + seconds - now))

    def now(self) -> float:
        return self._clock()


class Emulator:
    """A local Iterable project over HTTP. Use as a context manager, or call start() and stop().

    rate_limits: None => Iterable's real limits (REAL_RATE_LIMITS); a dict overrides some of them by name,
      e.g. {"export": (1000, 60)}; {} disables all. Names: export, lists_getUsers, campaigns_metrics,
      users_getFields, users_forgotten (both forget lists), export_jobs (start, files, cancel and jobs together:
      1/s per organization, 429 with Retry-After), default (the limit of every other endpoint, each counted separately).
    wrapped_catalog_responses: which catalog endpoints answer in the {msg, code, params} envelope
      ("catalogs", "catalog_items", "catalog_field_mappings"); default: catalogs wrapped, the others bare.
    export_cache_dir: keep each rendered export body there and replay it for the same query (for benchmarks:
      `warm_export` renders a window ahead, so the read under test is not limited by the emulator's CPU).
    export_jobs: the export-job service's timing and limits (handlers/jobs.py ExportJobSettings); its files are
      served by a second loopback server, the file host (`file_host_url`, log in `file_host_requests`).
    template_media_in_definition_only: GET templates refuses (400) a messageMedium outside the API definition's
      enum, `Embedded` included, instead of listing embedded templates for it.
    """

    PROJECT_ID = 8575

    def __init__(
        self,
        dataset: Dataset | None = None,
        rate_limits: Mapping[str, tuple[int, float]] | None = None,
        *,
        port: int = 0,
        api_key: str = "emulator-server-side-key-0123456789abcdef",
        read_only_key: str = "emulator-read-only-key-fedcba9876543210",
        wrapped_catalog_responses: Iterable[str] = ("catalogs",),
        clock: Callable[[], float] = time.monotonic,
        export_cache_dir: str | Path | None = None,
        export_jobs: jobs.ExportJobSettings | None = None,
        template_media_in_definition_only: bool = False,
    ) -> None:
        self.dataset = dataset if dataset is not None else Dataset()
        self.api_key = api_key
        self.read_only_key = read_only_key
        if rate_limits is None:
            limits = dict(REAL_RATE_LIMITS)
        elif rate_limits:
            limits = {**REAL_RATE_LIMITS, **rate_limits}
        else:
            limits = {}
        self.rate_limits = limits
        self.export_jobs = jobs.ExportJobs(export_jobs or jobs.ExportJobSettings(), clock, time.time)
        self.options = Options(
            wrapped_catalog_responses=frozenset(wrapped_catalog_responses),
            export_cache=export.ExportCache(Path(export_cache_dir)) if export_cache_dir is not None else None,
            export_jobs=self.export_jobs,
            template_media_in_definition_only=template_media_in_definition_only,
        )
        self.file_host = FileHost(self.export_jobs, (api_key, read_only_key), self._claim_fault)
        self.requests: list[LoggedRequest] = []
        self._faults: list[Fault] = []
        self._faults_lock = threading.Lock()
        self._limiter = RateLimiter(limits, clock)
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Emulator:
        self.export_jobs.open()
        self.file_host.start()
        self.export_jobs.file_host_url = self.file_host.url
        server = ThreadingHTTPServer(("127.0.0.1", self._port), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        # A short poll interval keeps stop() (and so every test's teardown) fast.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="iterable-emulator", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.file_host.stop()
        self.export_jobs.close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ------------------------------------------------------------------ test controls
    def inject(self, fault: Fault | JobFault) -> Fault | JobFault:
        if isinstance(fault, JobFault):
            self.export_jobs.inject(fault)
            return fault
        with self._faults_lock:
            self._faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._faults_lock:
            self._faults.clear()
        self.export_jobs.clear_faults()

    def clear_requests(self) -> None:
        self.requests.clear()
        self.file_host.requests.clear()

    @property
    def file_host_url(self) -> str:
        return self.file_host.url

    @property
    def file_host_requests(self) -> list[FileHostRequest]:
        """Every request the file host answered: path, whether an Api-Key header came, status."""
        return self.file_host.requests

    def jobs(self) -> list[jobs.JobView]:
        """Every export job with its state as of now, oldest first."""
        return self.export_jobs.snapshot()

    def warm_export(self, data_type: str, start_date_time: str, end_date_time: str, **params: str) -> Path:
        """Render an export body into the cache now; takes the request's own parameter strings."""
        cache = self.options.export_cache
        if cache is None:
            raise RuntimeError("warm_export needs Emulator(..., export_cache_dir=...)")
        query_params = {
            "dataTypeName": [data_type],
            "startDateTime": [start_date_time],
            "endDateTime": [end_date_time],
            **{k: [v] for k, v in params.items()},
        }
        request = Request("GET", "/api/export/data.json", query_params, "", self.dataset, self.options)
        query = export.parse_export_query(request)
        return cache.warm(export.cache_key(self.dataset, query), lambda: export.render(self.dataset, query))

    def _claim_faults(self, path: str, params: Mapping[str, list[str]]) -> list[Fault]:
        """The faults that apply, outermost first: every claiming fault up to the first that answers on its own."""
        with self._faults_lock:
            faults = list(self._faults)
        claimed: list[Fault] = []
        for fault in faults:
            if fault.claim(path, params):
                claimed.append(fault)
                if not fault.passes_through:
                    break
        return claimed

    def _claim_fault(self, path: str, params: Mapping[str, list[str]]) -> Fault | None:
        """The file host's fault for one download: the first that applies."""
        claimed = self._claim_faults(path, params)
        return claimed[0] if claimed else None

    # ------------------------------------------------------------------ one request
    def arrival(self) -> float:
        """Now on the rate limiter's clock: the HTTP handler stamps each request with it as soon as it arrives."""
        return self._limiter.now()

    def respond(
        self, method: str, raw_path: str, api_key: str | None, body: bytes = b"", arrived: float | None = None
    ) -> Response:
        """Route and answer one API request (no I/O): auth, rate limit (counted at `arrived`), fault, handler."""
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        if "api_key" in params:
            params["api_key"] = ["<redacted>"]
        key_ok = api_key in (self.api_key, self.read_only_key)
        if len(raw_path) > MAX_URI_LENGTH:
            response = Response(414, _URI_TOO_LONG, content_type="text/html")
        else:
            response = self._answer(method, path, params, api_key, body, self.arrival() if arrived is None else arrived)
        self.requests.append(LoggedRequest(method, path, params, response.status, key_ok, time.time()))
        return response

    def _answer(
        self, method: str, path: str, params: dict[str, list[str]], api_key: str | None, body: bytes, arrived: float
    ) -> Response:
        route, path_params = _find_route(method, path)
        if route is None:
            return error_response(404, "NotFound", f"Not found: {method} {path}")
        if api_key not in (self.api_key, self.read_only_key):
            return error_response(401, "BadApiKey", "Invalid API key", params={"endpoint": path})
        if route.export and api_key == self.read_only_key:
            return error_response(
                401,
                "BadApiKey",
                f"This API key does not have permission to access {path}. Use a Server-side API key.",
                params={"endpoint": path},
            )
        # Named limits are shared by their endpoints (data.json); "default" is counted per endpoint.
        bucket = route.pattern.pattern if route.rate_limit == "default" else route.rate_limit
        if not self._limiter.allow(route.rate_limit, bucket, arrived):
            response = error_response(
                429,
                "RateLimitExceeded",
                f"Exceeded rate limit for endpoint: {path}, project: {self.PROJECT_ID}",
                params={},
            )
            if route.rate_limit in _RETRY_AFTER_LIMITS:
                response.headers["Retry-After"] = str(self._limiter.retry_after(route.rate_limit, bucket))
            return response
        request = Request(method, path, params, self.url, self.dataset, self.options, path_params, body)

        def handle() -> Response:
            try:
                return route.handler(request)
            except BadRequest as error:
                return error_response(error.status, error.code, error.msg)

        answer = handle
        for fault in reversed(self._claim_faults(path, params)):
            answer = functools.partial(fault.apply, answer)
        return answer()

    def control(self, method: str, path: str, body: bytes) -> Response:
        """The loopback control endpoint: POST/DELETE /_emulator/faults, GET /_emulator/requests,
        GET /_emulator/file-host-requests, GET /_emulator/jobs, POST /_emulator/campaigns/{id}/advance,
        POST /_emulator/templates/{id}/edit."""
        if path == "/_emulator/faults" and method == "POST":
            try:
                fault = self.inject(fault_library.from_spec(json.loads(body or b"{}")))
            except (ValueError, TypeError, KeyError) as error:
                return error_response(400, "BadParams", f"Invalid fault spec: {error}")
            return json_response({"injected": fault.name, "path": fault.path, "match": dict(fault.match)})
        if path == "/_emulator/faults" and method == "DELETE":
            self.clear_faults()
            return json_response({"cleared": True})
        if path == "/_emulator/file-host-requests" and method == "GET":
            return json_response(
                [
                    {
                        "method": r.method,
                        "path": r.path,
                        "api_key_header": r.api_key_header,
                        "key_seen": r.key_seen,
                        "status": r.status,
                    }
                    for r in self.file_host.requests
                ]
            )
        if path == "/_emulator/jobs" and method == "GET":
            return json_response([dataclasses.asdict(view) for view in self.jobs()])
        changed = _DATA_CHANGE.match(path)
        if changed and method == "POST" and f"{changed['kind']}/{changed['verb']}" in _DATA_CHANGES:
            return self._change_data(f"{changed['kind']}/{changed['verb']}", int(changed["id"]), body)
        if path == "/_emulator/requests" and method == "GET":
            return json_response(
                [
                    {"method": r.method, "path": r.path, "params": r.params, "status": r.status, "key_ok": r.key_ok}
                    for r in self.requests
                ]
            )
        return error_response(404, "NotFound", f"Not found: {method} {path}")

    def _change_data(self, what: str, object_id: int, body: bytes) -> Response:
        """POST /_emulator/campaigns/{id}/advance (one scheduler step, updatedAt unchanged) and
        POST /_emulator/templates/{id}/edit with {"updatedAt": "<ISO 8601>"} (an edit in Iterable's editor)."""
        try:
            if what == "campaigns/advance":
                return json_response({"id": object_id, "campaignState": self.dataset.advance_campaign(object_id)})
            moment = datetime.fromisoformat(json.loads(body or b"{}")["updatedAt"].replace("Z", "+00:00"))
            self.dataset.edit_template(object_id, moment)
            return json_response({"templateId": object_id, "updatedAt": moment.isoformat()})
        except (KeyError, ValueError, TypeError) as error:
            return error_response(400, "BadParams", f"Cannot apply {what} to {object_id}: {error}")


# Between two syncs, a test or a demo changes the data set the way Iterable's scheduler or editor would.
_DATA_CHANGE = re.compile(r"^/_emulator/(?P<kind>\w+)/(?P<id>\d+)/(?P<verb>\w+)$")
_DATA_CHANGES = ("campaigns/advance", "templates/edit")


def _find_route(method: str, path: str) -> tuple[Route | None, dict[str, str]]:
    for route in ROUTES:
        match = route.pattern.match(path)
        if match and route.method == method:
            return route, {k: unquote(v) for k, v in match.groupdict().items()}
    return None, {}


_CHUNK_BYTES = 64 * 1024


def _make_handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class IterableRequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "IterableEmulator/1.0"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            """Quiet: the emulator keeps its own request log (without the key)."""

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _dispatch(self, method: str) -> None:
            arrived = emulator.arrival()  # before reading the body or any handler work: the rate limits count this
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if path.startswith("/_emulator/"):
                response = emulator.control(method, path, body)
            else:
                response = emulator.respond(method, self.path, self.headers.get("Api-Key"), body, arrived)
            dropped = False
            try:
                self._send(response)
            except DropConnection:
                dropped = True
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
            if dropped:
                # After the except block, so the body's generators are finished before the client sees the cut.
                self._drop()

        def _send(self, response: Response) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            for name, value in response.headers.items():
                self.send_header(name, value)
            if isinstance(response.body, bytes):
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            buffer = bytearray()
            try:
                for line in response.body:
                    buffer += line
                    if len(buffer) >= _CHUNK_BYTES:
                        self._write_chunk(buffer)
                        buffer.clear()
            except DropConnection:
                if buffer:
                    self._write_chunk(buffer)
                raise
            if buffer:
                self._write_chunk(buffer)
            self.wfile.write(b"0\r\n\r\n")

        def _write_chunk(self, data: bytes | bytearray) -> None:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), bytes(data)))

        def _drop(self) -> None:
            """Close the socket without ending the chunked body, like a connection cut mid-transfer."""
            self.close_connection = True
            self.wfile.flush()
            with contextlib.suppress(OSError):  # the client may already be gone
                self.connection.shutdown(socket.SHUT_RDWR)

    return IterableRequestHandler
