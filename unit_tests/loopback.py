"""A small HTTP server on 127.0.0.1 that answers badly on purpose: scripted answers per path, stalls, a request log.

For what requests-mock cannot show: real redirects, real socket timeouts, and the console script in a subprocess.
"""

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Answer:
    """One scripted answer: status, headers, body; `stall` answers nothing until the server stops, `stall_mid_body`
    sends the headers and `body`, announced one byte longer, and then nothing more until the server stops."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    stall: bool = False
    stall_mid_body: bool = False


@dataclass(frozen=True)
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class LoopbackServer:
    """Answers GET <path> with the scripted answers of that path in order, repeating the last; 404 if none."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._answers: dict[str, list[Answer]] = {}
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, path: str, *answers: Answer) -> None:
        self._answers[path] = list(answers)

    def paths(self) -> list[str]:
        return [received.path for received in self.received]

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def _next(self, path: str) -> Answer:
        with self._lock:
            answers = self._answers.get(path)
            if not answers:
                return Answer(404, b'{"msg": "no such path", "code": "NotFound"}')
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with server._lock:
                    server.received.append(Received(parts.path, parse_qs(parts.query), dict(self.headers.items())))
                answer = server._next(parts.path)
                if answer.stall:
                    server._stopped.wait()
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body) + answer.stall_mid_body))
                self.end_headers()
                self.wfile.write(answer.body)
                if answer.stall_mid_body:
                    self.wfile.flush()
                    server._stopped.wait()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's name)
                return

        return Handler
