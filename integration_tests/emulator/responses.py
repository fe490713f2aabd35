"""What a handler returns, and Iterable's error body."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    """A response: `body` as bytes (sent with Content-Length) or an iterable of lines (sent chunked)."""

    status: int
    body: bytes | Iterable[bytes]
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def json_response(payload: Any, status: int = 200) -> Response:
    return Response(status, json.dumps(payload).encode())


def error_response(status: int, code: str, msg: str, params: Any = None) -> Response:
    """Iterable's error envelope `{"msg", "code", "params"}`."""
    return json_response({"msg": msg, "code": code, "params": params}, status)


class BadRequest(Exception):
    """A handler's 400: raised with Iterable's message, turned into a BadParams body by the server."""

    def __init__(self, msg: str, code: str = "BadParams", status: int = 400) -> None:
        super().__init__(msg)
        self.msg, self.code, self.status = msg, code, status


def body_lines(body: bytes | Iterable[bytes]) -> Iterator[bytes]:
    """A body line by line, whether it is bytes, an iterable of lines, or of multi-line chunks (a replayed file)."""
    chunks = [body] if isinstance(body, bytes) else body
    pending = b""
    for chunk in chunks:
        *complete, pending = (pending + chunk).split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending
