"""Export records handed from a worker thread to the main thread a thousand at a time, in bounded memory.

The CDK moves every record from the worker that reads it to the main thread that writes it as one queue item,
observed by the stream's cursor on the way and turned into an `AirbyteMessage` on arrival: ~15 µs per record,
more than reading, parsing and transforming it. Export streams need none of it per record — their state moves
once per window (ExportWindowRetriever) — so, when the console script asks for it (`SyncRuntime.batch_records`),
their retriever yields `RecordBatch`es through the CDK's path for messages (a retriever's `StreamData` may be an
`AirbyteMessage`): one queue item per thousand records, no per-record cursor call.

Off by default: any other runner of the manifest (the CDK's test wrapper, Airbyte's manifest-only runtime) gets
one `Record` per record, as the CDK expects. When on, `SourceIterable.read` marks each batch as arrived and passes
it whole to the console script, which writes its records straight to stdout (source_iterable/run.py).
"""

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from source_iterable.bounds import BATCH_BYTES

BATCH_RECORDS = 1000
# Batches of one reader yielded but not yet taken by the main thread. Without a bound a slow stdout would let the
# CDK's queue (10,000 items) fill with ten million records.
BATCHES_IN_FLIGHT = 4
_POLL_SECONDS = 1.0


@dataclass
class RecordBatch(AirbyteMessage):
    """Records of one stream in the order read, travelling as one `AirbyteMessage` of type RECORD.

    `record` stays None: the records are `records` (data dicts). The main thread calls `arrived()` as soon as it
    has taken the batch off the CDK's queue.
    """

    stream: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)
    on_arrival: Callable[[], None] | None = None

    def arrived(self) -> None:
        if self.on_arrival is not None:
            self.on_arrival()
            self.on_arrival = None

    def messages(self) -> Iterator[AirbyteMessage]:
        """One RECORD message per record, stamped as the CDK stamps records: when they reach the main thread."""
        emitted_at = time.time_ns() // 1_000_000
        for data in self.records:
            yield AirbyteMessage(
                type=Type.RECORD, record=AirbyteRecordMessage(stream=self.stream, data=data, emitted_at=emitted_at)
            )


class RecordBatcher:
    """Collects the records one reader (a worker thread) emits into `RecordBatch`es of `size` records or
    `max_bytes` bytes (of the lines they were decoded from), whichever comes first.

    `add(record, size)` returns a full batch to yield, else None; `flush()` returns the partial batch (or None).
    Both wait while `in_flight` batches of this reader, or `in_flight` × `max_bytes` bytes of them, have not
    arrived: a reader holds at most that, plus the batch it fills, however large its records (a record of the
    longest line allowed travels alone). `wait_until_delivered()` returns once every batch has arrived: call it
    before letting the stream's state move past the records (the CDK's message path may put one worker's messages
    on the queue after a later one of the same worker).
    """

    def __init__(
        self, stream: str, size: int = BATCH_RECORDS, in_flight: int = BATCHES_IN_FLIGHT, max_bytes: int = BATCH_BYTES
    ) -> None:
        self._stream = stream
        self._size = size
        self._in_flight = in_flight
        self._max_bytes = max_bytes
        self._records: list[dict[str, Any]] = []
        self._bytes = 0
        self._outstanding = 0
        self._outstanding_bytes = 0
        self._arrivals = threading.Condition()

    def add(self, record: dict[str, Any], size: int = 0) -> RecordBatch | None:
        self._records.append(record)
        self._bytes += size
        if len(self._records) < self._size and self._bytes < self._max_bytes:
            return None
        return self.flush()

    def flush(self) -> RecordBatch | None:
        if not self._records:
            return None
        self._wait_while(self._full)
        records, self._records = self._records, []
        size, self._bytes = self._bytes, 0
        with self._arrivals:
            self._outstanding += 1
            self._outstanding_bytes += size
        return RecordBatch(
            type=Type.RECORD, stream=self._stream, records=records, on_arrival=lambda: self._arrived(size)
        )

    def wait_until_delivered(self) -> None:
        self._wait_while(lambda: self._outstanding > 0)

    def _full(self) -> bool:
        if self._outstanding >= self._in_flight:
            return True
        return self._outstanding > 0 and self._outstanding_bytes >= self._in_flight * self._max_bytes

    def _arrived(self, size: int) -> None:
        with self._arrivals:
            self._outstanding -= 1
            self._outstanding_bytes -= size
            self._arrivals.notify_all()

    def _wait_while(self, condition: Callable[[], bool]) -> None:
        with self._arrivals:
            while condition():
                if not self._arrivals.wait(_POLL_SECONDS) and not threading.main_thread().is_alive():
                    raise RuntimeError(f"{self._stream}: the main thread ended before taking the records read")
