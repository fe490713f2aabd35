"""Strict streaming decoder for the export API's JSON-lines bodies."""

from collections.abc import Generator, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import orjson
import requests
from airbyte_cdk.sources.declarative.decoders.decoder import Decoder

from source_iterable.bounds import MAX_RECORD_LINE_BYTES

_CHUNK_SIZE = 1 << 16


class MalformedLineError(ValueError):
    """A complete (newline-terminated) line of an export body is not a JSON object."""

    def __init__(self, line_number: int, line: bytes) -> None:
        self.line_number = line_number
        self.head = line[:480]
        self.excerpt = line[:120].decode("utf-8", errors="replace")
        super().__init__(f"line {line_number} is not a JSON object: {self.excerpt!r}")


class TruncatedBodyError(ValueError):
    """The body ended in the middle of a line: the connection was closed before the export finished."""

    def __init__(self, line_number: int, line: bytes = b"") -> None:
        self.line_number = line_number
        # A cut JSON object starts with "{"; a first line that does not is no JSONL body at all (an HTML page).
        self.starts_like_json = line.lstrip()[:1] == b"{"
        self.head = line[:480]
        self.excerpt = line[:120].decode("utf-8", errors="replace")
        super().__init__(f"the body ended inside line {line_number} (connection closed mid-transfer)")


class LineTooLong(ValueError):
    """A line of an export body is longer than the decoder's limit (found before it is held whole)."""

    def __init__(self, line_number: int, size: int, limit: int) -> None:
        self.line_number = line_number
        self.size = size
        self.limit = limit
        super().__init__(f"line {line_number} is longer than {limit} bytes ({size} bytes read of it)")


@dataclass
class StrictJsonlDecoder(Decoder):
    """Decode a JSON-lines body chunk by chunk with orjson; a bad line fails the read instead of being skipped.

    Not the built-in `JsonlDecoder`: it parses with the stdlib `json` (2x slower per line) and logs and *skips* a line
    that does not parse, so a malformed or cut line silently loses data. This decoder distinguishes:
    - a complete line that is not a JSON object -> `MalformedLineError` (a data problem: the sync must fail);
    - a last line without its newline that does not parse -> `TruncatedBodyError` (the connection was cut: the
      caller retries the window).
    - a line longer than `max_line_bytes` -> `LineTooLong`, raised as soon as that many bytes of it arrived.
    Empty lines are ignored. Lines are numbered from 1 in the order received. Memory stays flat: one 64 KiB chunk
    and one partial line (at most `max_line_bytes`) at a time; time is linear in the body, however long a line
    (bench/long_line.py). `bytes_decoded` counts the bytes of the bodies read so far, so a reader can size its
    batches in bytes.
    """

    parameters: InitVar[Mapping[str, Any]]
    max_line_bytes: int = MAX_RECORD_LINE_BYTES

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self.bytes_decoded = 0

    def is_stream_response(self) -> bool:
        return True

    def decode(self, response: requests.Response) -> Generator[MutableMapping[str, Any], None, None]:
        loads = orjson.loads
        limit = self.max_line_bytes
        line_number = 0
        # The pieces of the line not yet ended, joined once when its newline arrives: appending each chunk to one
        # bytes object instead would copy the line again for every chunk (quadratic in the line's length).
        head: list[bytes] = []
        head_size = 0
        for chunk in response.iter_content(chunk_size=_CHUNK_SIZE):
            self.bytes_decoded += len(chunk)
            lines = chunk.split(b"\n")
            if len(lines) == 1:
                if chunk:
                    head.append(chunk)
                    head_size += len(chunk)
                    if head_size > limit:
                        raise LineTooLong(line_number + 1, head_size, limit)
                continue
            # Only a line joined from earlier chunks, or one in a chunk longer than the limit, can exceed it.
            may_exceed = len(chunk) > limit
            if head:
                head.append(lines[0])
                lines[0] = b"".join(head)
                head = []
                head_size = 0
                if len(lines[0]) > limit:
                    raise LineTooLong(line_number + 1, len(lines[0]), limit)
            tail = lines.pop()
            if tail:
                head.append(tail)
                head_size = len(tail)
            for line in lines:
                line_number += 1
                if may_exceed and len(line) > limit:
                    raise LineTooLong(line_number, len(line), limit)
                if not line or line.isspace():
                    continue
                try:
                    record = loads(line)
                except orjson.JSONDecodeError:
                    raise MalformedLineError(line_number, line) from None
                if type(record) is not dict:
                    raise MalformedLineError(line_number, line)
                yield record
        pending = b"".join(head)
        if pending and not pending.isspace():
            line_number += 1
            try:
                record = loads(pending)
            except orjson.JSONDecodeError:
                raise TruncatedBodyError(line_number, pending) from None
            if type(record) is not dict:
                raise MalformedLineError(line_number, pending)
            yield record
