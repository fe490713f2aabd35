"""StrictJsonlDecoder: every line decoded, bad lines fail with their number, a cut last line is told apart."""

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from source_iterable.export.jsonl import (
    LineTooLong,
    MalformedLineError,
    StrictJsonlDecoder,
    TruncatedBodyError,
)


class _ChunkedResponse(requests.Response):
    """A response whose body arrives in the given chunks (as the network would cut it)."""

    def __init__(self, chunks: list[bytes]) -> None:
        super().__init__()
        self.status_code = 200
        self._chunks = chunks

    def iter_content(self, chunk_size: Any = 1, decode_unicode: bool = False) -> Iterator[bytes]:
        return iter(self._chunks)


def decode(*chunks: bytes) -> list[Any]:
    return list(StrictJsonlDecoder(parameters={}).decode(_ChunkedResponse(list(chunks))))


@pytest.mark.parametrize(
    "chunks, expected",
    [
        pytest.param([b'{"a": 1}\n{"a": 2}\n'], [{"a": 1}, {"a": 2}], id="one-chunk"),
        pytest.param([b'{"a"', b': 1}\n{"a": 2', b"}\n"], [{"a": 1}, {"a": 2}], id="lines-split-across-chunks"),
        pytest.param([b'{"a": 1}\n\n  \n{"a": 2}\n'], [{"a": 1}, {"a": 2}], id="blank-lines-ignored"),
        pytest.param([b'{"a": 1}\n{"a": 2}'], [{"a": 1}, {"a": 2}], id="last-line-without-newline"),
        pytest.param([b'{"a": 1}\r\n'], [{"a": 1}], id="crlf"),
        pytest.param([], [], id="empty-body"),
    ],
)
def test_decodes_each_json_object_line(chunks: list[bytes], expected: list[Any]) -> None:
    assert decode(*chunks) == expected


def test_given_decoder_then_body_is_streamed() -> None:
    assert StrictJsonlDecoder(parameters={}).is_stream_response() is True


@pytest.mark.parametrize(
    "chunks, line_number, excerpt",
    [
        pytest.param([b'{"a": 1}\nnot json\n{"a": 2}\n'], 2, "not json", id="text-line"),
        pytest.param([b'{"a": 1}\n\n[1, 2]\n'], 3, "[1, 2]", id="array-line-counted-after-blank"),
        pytest.param([b'{"a": 1}\n"x"'], 2, '"x"', id="last-line-not-an-object"),
    ],
)
def test_given_a_complete_line_that_is_not_an_object_then_error_names_the_line(
    chunks: list[bytes], line_number: int, excerpt: str
) -> None:
    with pytest.raises(MalformedLineError) as error:
        decode(*chunks)
    assert (error.value.line_number, error.value.excerpt) == (line_number, excerpt)
    assert str(error.value) == f"line {line_number} is not a JSON object: {excerpt!r}"


def test_given_body_cut_inside_the_last_line_then_truncation_is_reported_not_malformed() -> None:
    with pytest.raises(TruncatedBodyError) as error:
        decode(b'{"a": 1}\n{"a": 2}\n{"a": ')
    assert error.value.line_number == 3
    assert str(error.value) == "the body ended inside line 3 (connection closed mid-transfer)"


def test_given_records_before_a_bad_line_then_they_are_yielded_first() -> None:
    decoded = StrictJsonlDecoder(parameters={}).decode(_ChunkedResponse([b'{"a": 1}\n{oops\n']))
    assert next(decoded) == {"a": 1}
    with pytest.raises(MalformedLineError):
        next(decoded)


def _long_line_chunks(record: bytes, chunk_size: int) -> list[bytes]:
    """`{"a":1}`, then `record` (no newline of its own), then `{"a":3}`, cut every `chunk_size` bytes."""
    body = b'{"a":1}\n' + record + b'\n{"a":3}\n'
    return [body[start : start + chunk_size] for start in range(0, len(body), chunk_size)]


@pytest.mark.parametrize("chunk_size", [1, 7, 4096], ids=["1-byte-chunks", "7-byte-chunks", "4-kib-chunks"])
def test_given_a_long_line_across_many_chunks_then_it_is_decoded_whole_between_its_neighbours(chunk_size: int) -> None:
    text = "".join(chr(0x41 + i % 26) for i in range(100_000))
    chunks = _long_line_chunks(b'{"a":2,"text":"' + text.encode() + b'"}', chunk_size)
    assert len(chunks) > 20
    assert decode(*chunks) == [{"a": 1}, {"a": 2, "text": text}, {"a": 3}]


def test_given_a_newline_exactly_at_chunk_boundaries_then_no_line_is_joined_or_lost() -> None:
    assert decode(b'{"a":', b"1}", b"\n", b'{"a":2}\n', b"\n", b'{"a"', b":3}") == [{"a": 1}, {"a": 2}, {"a": 3}]


def test_given_a_long_complete_line_that_is_malformed_then_error_names_it_with_a_short_excerpt() -> None:
    chunks = _long_line_chunks(b'{"a":2,"text":"' + b"x" * 50_000 + b'"', 4096)
    with pytest.raises(MalformedLineError) as error:
        decode(*chunks)
    assert (error.value.line_number, error.value.excerpt) == (2, '{"a":2,"text":"' + "x" * 105)


def test_given_body_cut_inside_a_long_last_line_then_truncation_is_reported() -> None:
    body = b'{"a":1}\n{"a":2,"text":"' + b"x" * 50_000
    chunks = [body[start : start + 4096] for start in range(0, len(body), 4096)]
    decoded = StrictJsonlDecoder(parameters={}).decode(_ChunkedResponse(chunks))
    assert next(decoded) == {"a": 1}
    with pytest.raises(TruncatedBodyError) as error:
        next(decoded)
    assert error.value.line_number == 2


def test_given_a_line_longer_than_the_limit_then_it_fails_before_the_line_is_held_whole() -> None:
    chunks = [b"x" * 65536] * 16 + [b"\n"]  # one line of 1 MiB
    decoder = StrictJsonlDecoder(parameters={}, max_line_bytes=100_000)
    with pytest.raises(LineTooLong) as error:
        list(decoder.decode(_ChunkedResponse(chunks)))
    assert (error.value.line_number, error.value.size, error.value.limit) == (1, 131072, 100_000)


def test_given_a_complete_line_longer_than_the_limit_then_it_fails_naming_its_number() -> None:
    decoder = StrictJsonlDecoder(parameters={}, max_line_bytes=20)
    with pytest.raises(LineTooLong) as error:
        list(decoder.decode(_ChunkedResponse([b'{"a": 1}\n{"a": "' + b"y" * 30 + b'"}\n'])))
    assert (error.value.line_number, error.value.size) == (2, 39)


def test_the_decoder_counts_the_bytes_it_read_across_bodies() -> None:
    decoder = StrictJsonlDecoder(parameters={})
    list(decoder.decode(_ChunkedResponse([b'{"a": 1}\n\n{"a": 2', b'2}\n{"a": 3}'])))
    list(decoder.decode(_ChunkedResponse([b'{"b": 4}\n'])))
    assert decoder.bytes_decoded == 16 + 12 + 9
