"""The export file host: a second loopback server answering the pre-signed file URLs of export jobs, S3-style.

`GET /{jobId}/{file}?Expires=...&Signature=...` serves the file (Content-Length, `application/x-json-stream`).
403 with an S3 `AccessDenied` XML body to a request that carries an `Api-Key` header (the key must never leave for
the file host), to a bad signature, and ("Request has expired") to a URL past its expiry; 404 `NoSuchKey` to an
unknown file. Every request is logged (`FileHostRequest`), with whether an `Api-Key` header came and whether the
emulator's keys appeared anywhere in the request, never the key itself.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from .faults import FILE_HOST, DropConnection, Fault
from .handlers.jobs import ExportJobs
from .responses import Response

_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class FileHostRequest:
    method: str
    path: str
    api_key_header: bool
    key_seen: bool
    status: int
    at: float
    # The emulator's clock at arrival: compare with JobView.started_at, ends_at, files_ready_at.
    emulator_time: float


def _s3_error(code: str, message: str, status: int = 403, details: str = "") -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{details}"
        "<RequestId>EMULATOR0REQUEST</RequestId><HostId>iterable-emulator-file-host</HostId></Error>"
    )
    return Response(status, body.encode(), content_type="application/xml")


class FileHost:
    """Serves job files over its own loopback port; see the module docstring for its answers."""

    def __init__(
        self,
        jobs: ExportJobs,
        secrets: tuple[str, ...],
        claim_fault: Callable[[str, Mapping[str, list[str]]], Fault | None],
    ) -> None:
        self.jobs = jobs
        self.requests: list[FileHostRequest] = []
        self._secrets = tuple(secret for secret in secrets if secret)
        self._claim_fault = claim_fault
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="iterable-file-host", daemon=True
        ).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the file host is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def respond(self, method: str, raw_path: str, headers: Mapping[str, str]) -> Response:
        api_key_header = any(name.lower() == "api-key" for name in headers)
        seen = raw_path + "\n" + "\n".join(f"{name}: {value}" for name, value in headers.items())
        response = self._answer(method, raw_path, api_key_header)
        self.requests.append(
            FileHostRequest(
                method,
                urlsplit(raw_path).path,
                api_key_header,
                any(secret in seen for secret in self._secrets),
                response.status,
                time.time(),
                self.jobs.now(),
            )
        )
        return response

    def _answer(self, method: str, raw_path: str, api_key_header: bool) -> Response:
        if api_key_header:
            self.jobs.count("file_requests_with_api_key")
            return _s3_error("AccessDenied", "Access Denied: a pre-signed URL takes no Api-Key header")
        if method != "GET":
            return _s3_error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405)
        parts = urlsplit(raw_path)
        segments = unquote(parts.path).strip("/").split("/")
        params = parse_qs(parts.query)
        expires, signature = params.get("Expires", [""])[0], params.get("Signature", [""])[0]
        if len(segments) != 2 or not expires or not signature:
            return _s3_error(
                "AccessDenied", "Query-string authentication requires the Signature and Expires parameters"
            )
        job_id, name = segments
        verdict, file = self.jobs.signed_file(job_id, name, expires, signature)
        if verdict == "signature":
            return _s3_error(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        if verdict == "expired":
            self.jobs.count("file_requests_expired")
            return _s3_error("AccessDenied", "Request has expired", details=f"<Expires>{escape(expires)}</Expires>")
        if file is None:
            return _s3_error("NoSuchKey", "The specified key does not exist.", 404)
        self.jobs.count("files_served")
        response = Response(
            200, _read(file.path), content_type="application/x-json-stream", headers={"Content-Length": str(file.size)}
        )
        fault = self._claim_fault(
            FILE_HOST,
            {
                "dataTypeName": [self.jobs.data_type_of(job_id)],
                "jobId": [job_id],
                "file": [name],
            },
        )
        return fault.apply(lambda: response) if fault else response


def _read(path: Path) -> Iterator[bytes]:
    with path.open("rb") as body:
        while chunk := body.read(_CHUNK_BYTES):
            yield chunk


def _make_handler(host: FileHost) -> type[BaseHTTPRequestHandler]:
    class FileHostHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "AmazonS3"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
            """Quiet: the file host keeps its own request log."""

        def do_GET(self) -> None:
            self._dispatch("GET")

        def do_HEAD(self) -> None:
            self._dispatch("HEAD")

        def do_POST(self) -> None:
            self._dispatch("POST")

        def do_PUT(self) -> None:
            self._dispatch("PUT")

        def do_DELETE(self) -> None:
            self._dispatch("DELETE")

        def _dispatch(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            response = host.respond(method, self.path, dict(self.headers.items()))
            try:
                self._send(response, with_body=method != "HEAD")
            except DropConnection:
                self._drop()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _send(self, response: Response, with_body: bool) -> None:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            body = response.body
            if isinstance(body, bytes):
                response.headers["Content-Length"] = str(len(body))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not with_body:
                return
            if isinstance(body, bytes):
                self.wfile.write(body)
                return
            for chunk in body:
                self.wfile.write(chunk)

        def _drop(self) -> None:
            """Close the socket before Content-Length bytes were sent, like a download cut mid-transfer."""
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)

    return FileHostHandler
