"""The seam between the export paths and the retriever: what a range reader yields and what it is told."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from airbyte_cdk.sources.types import StreamSlice

from source_iterable.export.window import Window


@dataclass(frozen=True)
class WindowDone:
    """Yielded by a range reader between records: every record of `window` has been yielded (checkpoint here)."""

    window: Window


class RangeProgress(Protocol):
    """What a range reader tells the retriever while it reads (implemented by `keys.EmittedKeys`)."""

    def expect_repeats(self) -> None:
        """Records already yielded may come again (a window is being re-read): de-duplicate from now on."""


class RangeReader(Protocol):
    """Reads one range `[start, end)` of one export stream; the seam every export path plugs into.

    `read_range` yields the range's records, transformed (see `records.ExportRecords`), in any order, and a
    `WindowDone` after the last record of each contiguous part it completes, oldest first (the retriever moves the
    stream's state there; a reader may yield only one, for the whole range). A record may be yielded twice only after
    `progress.expect_repeats()`: the caller (`ExportWindowRetriever`) drops repeats, batches, and checkpoints. A
    range that cannot be read raises an `AirbyteTracedException` naming the stream, the range and the cause; the
    state then stays at the last `WindowDone`.
    """

    def read_range(
        self, window: Window, stream_slice: StreamSlice, progress: RangeProgress
    ) -> Iterator[dict[str, Any] | WindowDone]:
        """Yield every record of `window` and the `WindowDone`s; raise `AirbyteTracedException` when it cannot."""
        ...
