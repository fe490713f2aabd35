"""RecordBatcher, RecordBatch and SourceIterable.read: export records handed to the main thread a thousand at a
time, in bounded memory, and given out as the CDK gives out records."""

import logging
import threading
from typing import Any
from unittest import mock

import pytest
from airbyte_cdk.models import AirbyteMessage, AirbyteStreamStatus, StreamDescriptor, Type
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as stream_status_message

from source_iterable.export.batching import RecordBatch, RecordBatcher
from source_iterable.source import SourceIterable
from unit_tests.mock_server.config import a_config

# Long enough for a blocked thread to be seen blocked, short enough to keep the suite fast.
BLOCKED_SECONDS = 0.1
# Long enough for a thread that is not blocked to finish on a loaded machine; only a failing test waits it out.
UNBLOCKED_SECONDS = 10.0


def records(count: int, first: int = 0) -> list[dict[str, int]]:
    return [{"n": n} for n in range(first, first + count)]


def delivered_within(batcher: RecordBatcher, seconds: float) -> bool:
    """Whether `batcher.wait_until_delivered()` returns within `seconds` (else it is left waiting in a daemon)."""
    waiter = threading.Thread(target=batcher.wait_until_delivered, daemon=True)
    waiter.start()
    waiter.join(seconds)
    return not waiter.is_alive()


def test_given_fewer_records_than_the_size_when_added_then_no_batch_until_flush() -> None:
    batcher = RecordBatcher("email_send", size=3)

    returned = [batcher.add(record) for record in records(2)]
    batch = batcher.flush()

    assert returned == [None, None]
    assert batch is not None and batch.stream == "email_send" and batch.records == records(2)


def test_given_size_records_when_added_then_the_last_add_returns_them_in_order() -> None:
    batcher = RecordBatcher("email_send", size=3)

    returned = [batcher.add(record) for record in records(3)]

    assert returned[:2] == [None, None]
    assert returned[2] is not None and returned[2].records == records(3)
    assert batcher.flush() is None


def test_a_batch_is_a_record_message_without_a_record_of_its_own() -> None:
    batch = RecordBatcher("email_send", size=1).add({"n": 1})

    assert isinstance(batch, RecordBatch)
    assert batch.type == Type.RECORD and batch.record is None


def test_a_batch_gives_one_record_message_per_record_stamped_alike() -> None:
    batcher = RecordBatcher("email_send", size=2)
    batcher.add({"n": 1})
    full = batcher.add({"n": 2})
    assert full is not None

    messages = list(full.messages())

    assert [(m.type, m.record.stream, m.record.data) for m in messages] == [  # type: ignore[union-attr]
        (Type.RECORD, "email_send", {"n": 1}),
        (Type.RECORD, "email_send", {"n": 2}),
    ]
    assert messages[0].record.emitted_at == messages[1].record.emitted_at > 0  # type: ignore[union-attr]


def test_given_all_batches_arrived_when_waiting_for_delivery_then_it_returns_at_once() -> None:
    batcher = RecordBatcher("email_send", size=1)
    batches = [batcher.add(record) for record in records(2)]

    for batch in batches:
        assert batch is not None
        batch.arrived()

    assert delivered_within(batcher, UNBLOCKED_SECONDS)


def test_given_in_flight_batches_unarrived_when_the_next_is_due_then_the_reader_waits_for_an_arrival() -> None:
    batcher = RecordBatcher("email_send", size=1, in_flight=1)
    first = batcher.add({"n": 1})
    assert first is not None
    second: list[RecordBatch | None] = []
    reader = threading.Thread(target=lambda: second.append(batcher.add({"n": 2})))

    reader.start()
    reader.join(BLOCKED_SECONDS)
    blocked = reader.is_alive()
    first.arrived()
    reader.join()

    assert blocked
    assert second[0] is not None and second[0].records == [{"n": 2}]


def test_given_a_batch_not_arrived_when_waiting_for_delivery_then_it_returns_only_after_the_arrival() -> None:
    batcher = RecordBatcher("email_send", size=1)
    batch = batcher.add({"n": 1})
    assert batch is not None
    waiter = threading.Thread(target=batcher.wait_until_delivered)

    waiter.start()
    waiter.join(BLOCKED_SECONDS)
    blocked = waiter.is_alive()
    batch.arrived()
    waiter.join()

    assert blocked


def test_a_batch_arriving_twice_counts_once() -> None:
    batcher = RecordBatcher("email_send", size=1, in_flight=1)
    first = batcher.add({"n": 1})
    assert first is not None
    first.arrived()
    first.arrived()
    second = batcher.add({"n": 2})
    assert second is not None

    waiter = threading.Thread(target=batcher.wait_until_delivered)
    waiter.start()
    waiter.join(BLOCKED_SECONDS)

    assert waiter.is_alive()
    second.arrived()
    waiter.join()


# ------------------------------------------------------------------ SourceIterable.read, the batches' consumer
def cdk_messages(*batches: RecordBatch) -> list[AirbyteMessage]:
    """What the CDK's read yields for a stream whose records all came in `batches`."""
    return [
        stream_status_message(StreamDescriptor(name="email_send"), AirbyteStreamStatus.STARTED),
        *batches,
        stream_status_message(StreamDescriptor(name="email_send"), AirbyteStreamStatus.COMPLETE),
    ]


def read_with(messages: list[AirbyteMessage], record_batches: bool, caplog: pytest.LogCaptureFixture) -> list[Any]:
    with mock.patch.object(ConcurrentDeclarativeSource, "read", return_value=iter(messages)):
        source = SourceIterable(config=a_config().build(), record_batches=record_batches)
        with caplog.at_level(logging.INFO):
            return list(source.read(logging.getLogger("airbyte"), {}, CatalogBuilder().build()))


def statuses(messages: list[Any]) -> list[str]:
    return [m.trace.stream_status.status.name for m in messages if m.type == Type.TRACE]


def test_given_record_batches_wanted_when_the_source_reads_then_batches_pass_whole_and_arrive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    batcher = RecordBatcher("email_send", size=2, in_flight=1)
    batcher.add({"n": 1})
    batch = batcher.add({"n": 2})
    assert batch is not None

    messages = read_with(cdk_messages(batch), True, caplog)

    assert messages[2] is batch
    assert delivered_within(batcher, UNBLOCKED_SECONDS)  # the source marked the batch arrived


def test_given_a_record_of_the_batch_size_in_bytes_then_it_travels_alone() -> None:
    batcher = RecordBatcher("email_send", size=1000, max_bytes=100)

    assert batcher.add({"n": 1}, 10) is None
    big = batcher.add({"n": 2}, 100)

    assert big is not None and big.records == [{"n": 1}, {"n": 2}]
    assert batcher.flush() is None


def test_given_batches_of_more_bytes_than_allowed_in_flight_then_the_next_flush_waits_for_their_arrival() -> None:
    batcher = RecordBatcher("email_send", size=1000, in_flight=4, max_bytes=100)
    first = batcher.add({"n": 1}, 500)  # one batch over the 4 × 100 bytes allowed in flight
    assert first is not None
    batcher.add({"n": 2}, 1)
    flushed: list[RecordBatch | None] = []
    flusher = threading.Thread(target=lambda: flushed.append(batcher.flush()), daemon=True)
    flusher.start()
    flusher.join(BLOCKED_SECONDS)
    assert flusher.is_alive()  # held back while the big batch has not arrived

    first.arrived()
    flusher.join(UNBLOCKED_SECONDS)
    assert not flusher.is_alive() and flushed[0] is not None and flushed[0].records == [{"n": 2}]
