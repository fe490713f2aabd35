"""One rich Iterable export line, through every step an export record takes, to the exact RECORD line written.

The steps as the manifest's `export_stream` chains them: StrictJsonlDecoder, then TimestampNormalizer,
JsonStringFieldParser (transactionalData) and EventIdAdder, then the console script's `batch_lines`. The expected
bytes are written out by hand, so an optimisation of any step that changes one byte of a record fails here.
"""

from collections.abc import Iterator
from hashlib import blake2b
from typing import Any

import requests
from airbyte_cdk.models import Type

from source_iterable.components.event_id import EventIdAdder
from source_iterable.components.json_fields import JsonStringFieldParser
from source_iterable.components.timestamps import TimestampNormalizer
from source_iterable.export.batching import RecordBatch
from source_iterable.export.jsonl import StrictJsonlDecoder
from source_iterable.run import batch_lines

RICH_LINE = (
    b'{"createdAt":"2025-03-04 05:06:07.134105.000Z","email":"a@example.com","campaignId":101,"templateId":200,'
    b'"messageId":"m-1","locale":null,"contentId":7,'
    b'"transactionalData":"{\\"orderDate\\":\\"2025-03-04 05:06:07 +00:00\\",\\"total\\":12.50,\\"coupon\\":null,'
    b'\\"city\\":\\"Z\\\\u00fcrich\\"}",'
    b'"itblInternal":{"documentCreatedAt":"2025-03-04 05:06:07.134105.000Z",'
    b'"documentUpdatedAt":"2025-03-04 00:06:09.250 -05:00","emailDomain":"example.com"}}\n'
    b'{"createdAt":"2025-03-04 05:06:08 +00:00","email":"b@example.com","messageId":"m-2",'
    b'"transactionalData":"{not json","itblInternal":{"documentUpdatedAt":"2025-03-04 05:06:08 +0000"}}\n'
)
EMITTED_AT = 1_767_225_600_000


class _Body(requests.Response):
    """A 200 response whose body arrives in 50-byte chunks (lines and escapes cut anywhere)."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.status_code = 200
        self._body = body

    def iter_content(self, chunk_size: Any = 1, decode_unicode: bool = False) -> Iterator[bytes]:
        return (self._body[start : start + 50] for start in range(0, len(self._body), 50))


def event_id(*values: str) -> str:
    """The documented rule: BLAKE2b-128 of the data type and the 11 identifying fields, joined by U+001F."""
    return blake2b("\x1f".join(["emailSend", *values]).encode(), digest_size=16).hexdigest()


def read_lines(body: bytes) -> bytes:
    transformations: list[Any] = [
        TimestampNormalizer(parameters={}),
        JsonStringFieldParser(fields=["transactionalData"], parameters={}),
        EventIdAdder(data_type="emailSend", parameters={}),
    ]
    records = []
    for record in StrictJsonlDecoder(parameters={}).decode(_Body(body)):
        for transformation in transformations:
            transformation.transform(record, config={})
        records.append(record)
    lines = batch_lines(RecordBatch(type=Type.RECORD, stream="email_send", records=records), EMITTED_AT)
    assert lines is not None
    return lines


def test_given_rich_iterable_lines_then_the_record_lines_written_are_exactly_these_bytes() -> None:
    first_id = event_id("2025-03-04T05:06:07.134105Z", "a@example.com", "", "", "m-1", "101", "200", "", "", "", "")
    second_id = event_id("2025-03-04T05:06:08Z", "b@example.com", "", "", "m-2", "", "", "", "", "", "")
    assert read_lines(RICH_LINE) == (
        b'{"type":"RECORD","record":{"stream":"email_send","data":{'
        b'"createdAt":"2025-03-04T05:06:07.134105Z","email":"a@example.com","campaignId":101,"templateId":200,'
        b'"messageId":"m-1","contentId":7,'
        b'"transactionalData":{"orderDate":"2025-03-04 05:06:07 +00:00","total":12.5,"coupon":null,'
        b'"city":"Z\xc3\xbcrich"},'
        b'"itblInternal":{"documentCreatedAt":"2025-03-04T05:06:07.134105Z",'
        b'"documentUpdatedAt":"2025-03-04T05:06:09.25Z","emailDomain":"example.com"},'
        b'"_iterable_event_id":"' + first_id.encode() + b'"},"emitted_at":1767225600000}}\n'
        b'{"type":"RECORD","record":{"stream":"email_send","data":{'
        b'"createdAt":"2025-03-04T05:06:08Z","email":"b@example.com","messageId":"m-2",'
        b'"transactionalData":"{not json","itblInternal":{"documentUpdatedAt":"2025-03-04T05:06:08Z"},'
        b'"_iterable_event_id":"' + second_id.encode() + b'"},"emitted_at":1767225600000}}\n'
    )
