"""The one place the connector moves a CDK cursor's state from inside a partition (adapter to the CDK's cursor).

`observe_cursor_end` ends a whole slice at a value (an export range's end, the metrics streams' sync time);
`WindowCheckpoint` closes each window completed inside an export range as a partition of its own.

Why: the CDK's `ConcurrentCursor` moves a stream's state only when a partition (a cursor slice) closes, and an
export stream's slice is now its whole range (the retriever plans the windows inside it, as few as the data
allows). Without this, a year read in twenty windows would keep its state at the start until the last one ends,
and a killed sync would read the year again. So each window the retriever completes is closed on the cursor as a
partition of its own: `observe` of the window's end, then `close_partition` (both part of the `Cursor` interface)
with a minimal `Partition` for the window's slice. The cursor merges the window's interval with the ones before it
(`cursor_granularity` PT1S in the manifest makes `[a, b − 1 s]` and `[b, …]` adjacent) and emits the state.
What this relies on beyond the interface (checked against airbyte-cdk 7.39.1, `streams/concurrent/cursor.py`):
`close_partition` reads only `partition.to_slice()` and the value observed for that slice; it is called here
from the worker thread reading the partition, as the CDK's `PartitionReader` itself does, after every record of
the window was handed on, so the STATE message follows them on the CDK's queue.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.concurrent.partitions.partition import Partition
from airbyte_cdk.sources.types import Record, StreamSlice

from source_iterable.export.window import SLICE_FORMAT


def observe_cursor_end(cursor: Cursor | None, stream_name: str, stream_slice: StreamSlice, value: str) -> None:
    """Let `cursor` observe `value` as the cursor value of `stream_slice` (the state moves there when the CDK
    closes the slice); nothing for a stream without a cursor field (full refresh)."""
    cursor_field = getattr(cursor, "cursor_field", None)
    if cursor is None or cursor_field is None:
        return
    cursor.observe(
        Record(data={cursor_field.cursor_field_key: value}, stream_name=stream_name, associated_slice=stream_slice)
    )


class _CompletedWindow(Partition):
    """A window already read: only its slice matters to the cursor."""

    def __init__(self, stream_name: str, stream_slice: StreamSlice) -> None:
        self._stream_name = stream_name
        self._slice = stream_slice

    def read(self) -> Iterable[Record]:
        return ()

    def to_slice(self) -> Mapping[str, Any] | None:
        return self._slice

    def stream_name(self) -> str:
        return self._stream_name

    def __hash__(self) -> int:
        return hash((self._stream_name, tuple(sorted(self._slice.cursor_slice.items()))))


class WindowCheckpoint:
    """Moves the stream's state to the end of each window completed inside one cursor slice."""

    def __init__(self, cursor: Cursor | None, stream_name: str, stream_slice: StreamSlice) -> None:
        cursor_field = getattr(cursor, "cursor_field", None)
        # Full refresh (FinalStateCursor) has no cursor field and no state to move.
        self._cursor = cursor if cursor_field is not None else None
        self._key = cursor_field.cursor_field_key if cursor_field is not None else ""
        self._stream_name = stream_name
        self._slice = stream_slice

    def complete(self, start: datetime, end: datetime) -> None:
        """Every record of `[start, end)` has been handed on: the state may move to `end`."""
        cursor = self._cursor
        if cursor is None:
            return
        window_slice = StreamSlice(
            partition=self._slice.partition,
            cursor_slice={
                "start_time": start.strftime(SLICE_FORMAT),
                "end_time": (end - timedelta(seconds=1)).strftime(SLICE_FORMAT),
            },
            extra_fields=self._slice.extra_fields,
        )
        cursor.observe(
            Record(
                data={self._key: end.strftime(SLICE_FORMAT)},
                stream_name=self._stream_name,
                associated_slice=window_slice,
            )
        )
        cursor.close_partition(_CompletedWindow(self._stream_name, window_slice))
