"""The console script's `read`: the same messages as the CDK's stock entrypoint, written faster.

Records are written by `record_line`/`batch_lines` (one orjson call each) instead of the CDK's serialiser, export
records arrive in `RecordBatch`es: the lines must equal the stock ones, except for `emitted_at` stamps.
"""

import copy
import json
import logging
from argparse import Namespace
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests_mock
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from source_iterable.export.batching import RecordBatch
from source_iterable.run import BatchedOutput, FastRecordEntrypoint, batch_lines, record_line, write_all
from source_iterable.source import SourceIterable
from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.export_api import ExportApi, Fault, an_event, for_window

EMITTED_AT = 1_767_225_600_000


def stock_line(data: dict[str, Any], stream: str = "email_send", namespace: str | None = None) -> bytes:
    record = AirbyteRecordMessage(stream=stream, data=data, emitted_at=EMITTED_AT, namespace=namespace)
    return AirbyteEntrypoint.airbyte_message_to_string(AirbyteMessage(type=Type.RECORD, record=record)).encode() + b"\n"


RECORDS = [
    pytest.param({"email": "a@example.com", "campaignId": 1}, id="flat"),
    pytest.param({"email": "a@example.com", "locale": None, "userId": None}, id="top-level-nulls-dropped"),
    pytest.param({"transactionalData": {"orderId": None, "items": [None, {"sku": "x"}]}}, id="nested-nulls-kept"),
    pytest.param({"city": "Zürich", "emoji": "🎉", "quote": 'a "b" \\ c'}, id="unicode-and-escapes"),
    pytest.param({"amount": 12.5, "count": 0, "ok": False, "ids": []}, id="numbers-booleans-empty"),
    pytest.param({}, id="empty"),
]


@pytest.mark.parametrize("data", RECORDS)
def test_record_line_equals_the_cdk_serialisation(data: dict[str, Any]) -> None:
    record = AirbyteRecordMessage(stream="email_send", data=data, emitted_at=EMITTED_AT)

    assert record_line(record) == stock_line(data)


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(AirbyteRecordMessage(stream="s", data={}, emitted_at=1, namespace="ns"), id="namespace"),
        pytest.param(AirbyteRecordMessage(stream="s", data={"n": 2**70}, emitted_at=1), id="integer-beyond-64-bits"),
    ],
)
def test_record_line_leaves_to_the_cdk_what_it_does_not_write(record: AirbyteRecordMessage) -> None:
    assert record_line(record) is None


def test_batch_lines_equal_the_cdk_serialisation_of_each_record() -> None:
    datas = [param.values[0] for param in RECORDS]
    batch = RecordBatch(type=Type.RECORD, stream="email_send", records=copy.deepcopy(datas))

    assert batch_lines(batch, EMITTED_AT) == b"".join(stock_line(data) for data in datas)


def test_given_a_record_orjson_cannot_write_when_batch_lines_then_the_batch_goes_to_the_cdk() -> None:
    batch = RecordBatch(type=Type.RECORD, stream="email_send", records=[{"n": 1}, {"n": 2**70}])

    assert batch_lines(batch, EMITTED_AT) is None


# ---------------------------------------------------------------------------------------------- whole `read` runs
START, END = "2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z"


@pytest.fixture
def api() -> Iterator[ExportApi]:
    with requests_mock.Mocker() as mocker:
        yield ExportApi().install(mocker)


def read_args(tmp_path: Path, window_days: int = 30) -> Namespace:
    config = {
        **a_config().with_start_date(START).with_end_date(END).with_lookback_window(0).build(),
        "window_days": window_days,
        "export_requests_per_minute": 1000,
    }
    catalog = {
        "streams": [
            {
                "stream": {"name": "email_send", "json_schema": {}, "supported_sync_modes": ["incremental"]},
                "sync_mode": "incremental",
                "destination_sync_mode": "append",
            }
        ]
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    return AirbyteEntrypoint.parse_args(
        ["read", "--config", str(tmp_path / "config.json"), "--catalog", str(tmp_path / "catalog.json")]
    )


def unstamped(lines: list[Any]) -> list[dict[str, Any]]:
    """The messages without their emission times, which differ between any two runs."""
    text = b"".join(chunk if isinstance(chunk, bytes) else chunk.encode() + b"\n" for chunk in lines)
    messages = [orjson.loads(line) for line in text.splitlines()]
    for message in messages:
        message.get("record", {}).pop("emitted_at", None)
        message.get("trace", {}).pop("emitted_at", None)
    return messages


def without_logs(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [message for message in messages if message["type"] != "LOG"]


def stock_read(args: Namespace) -> list[dict[str, Any]]:
    entrypoint = AirbyteEntrypoint(SourceIterable(config=json.loads(Path(args.config).read_text())))
    return unstamped(list(entrypoint.run(args)))


def fast_read(args: Namespace) -> list[dict[str, Any]]:
    source = SourceIterable(config=json.loads(Path(args.config).read_text()), record_batches=True)
    return unstamped(list(FastRecordEntrypoint(source).run(args)))


def sends(count: int) -> list[dict[str, Any]]:
    """`count` email sends, one every 20 minutes from START, a third with transactionalData, some null fields."""
    return [
        an_event(
            (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=20 * n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            n,
            locale=None if n % 2 else "en-US",
            **({"transactionalData": json.dumps({"orderId": n})} if n % 3 == 0 else {}),
        )
        for n in range(count)
    ]


def test_given_export_records_in_batches_when_read_then_the_messages_equal_the_stock_entrypoints(
    api: ExportApi, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    api.add("emailSend", *sends(2500))
    args = read_args(tmp_path, window_days=59)  # one window: two would be read at once, their records interleaved

    with caplog.at_level(logging.INFO):
        fast = fast_read(args)
        fast_logs = list(caplog.messages)
        caplog.clear()
        stock = stock_read(args)

    assert without_logs(fast) == without_logs(stock)
    assert sum(message["type"] == "RECORD" for message in fast) == 2500
    assert "Read 2500 records from email_send stream in batches" in fast_logs
    assert "Read 2500 records from email_send stream" in caplog.messages


def test_given_a_body_cut_mid_window_when_read_in_batches_then_every_record_is_written_once(
    api: ExportApi, tmp_path: Path
) -> None:
    api.add("emailSend", *sends(300))
    api.fail(Fault(matches=for_window("2025-01-01 00:00:00", "2025-01-31 00:00:00"), times=1, cut_after_lines=120))

    messages = fast_read(read_args(tmp_path))

    ids = [message["record"]["data"]["messageId"] for message in messages if message["type"] == "RECORD"]
    assert sorted(ids) == sorted(f"m-{n}" for n in range(300))
    states = [message["state"]["stream"]["stream_state"] for message in messages if message["type"] == "STATE"]
    assert states[-1] == {"createdAt": "2025-03-01T00:00:00Z"}


class ShortWrites:
    """A stdout that takes at most `most` bytes per write, as a pipe or a write of over 2 GiB does."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.data = bytearray()
        self.writes = 0

    def write(self, data: Any) -> int:
        self.writes += 1
        taken = bytes(data[: self.most])
        self.data += taken
        return len(taken)

    def flush(self) -> None:
        pass


def test_given_a_stdout_taking_part_of_each_write_then_every_byte_of_every_line_is_written() -> None:
    stdout = ShortWrites(most=7)
    output = BatchedOutput(stdout=stdout)  # type: ignore[arg-type]
    lines = [b'{"type":"RECORD","n":%d}\n' % n for n in range(3)]
    for line in lines:
        output.write(line)
    output.flush()
    assert bytes(stdout.data) == b"".join(lines)
    assert stdout.writes == -(-len(b"".join(lines)) // 7)


def test_given_a_stdout_that_takes_nothing_then_the_write_fails_instead_of_losing_the_line() -> None:
    with pytest.raises(OSError, match=r"^stdout took no bytes of the 5 left to write$"):
        write_all(ShortWrites(most=0), b"abcde")  # type: ignore[arg-type]
