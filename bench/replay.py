"""The emulator serving one export window of N email_send events, fast enough to time a reader against.

The emulator computes each event on demand (~75,000 events/s on one core): slower than the reference reader, so
timing readers against it would time the emulator. `ReplayingEmulator` therefore records the body the emulator
serves for the full window once, while streaming it to the benchmark (which checksums it), into a spool file;
afterwards a request for a window selecting exactly those events is answered with the same bytes from the file.
A spool recorded by an earlier emulator of the same data set can be given as `recorded` (the benchmark's repeated
runs reuse it). Nothing is held in memory; any other request is served by the emulator as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from integration_tests.emulator import Dataset, Emulator
from integration_tests.emulator.dataset import EventTable
from integration_tests.emulator.handlers.request import parse_iterable_datetime
from integration_tests.emulator.responses import Response

EXPORT_PATH = "/api/export/data.json"
DATA_TYPE = "emailSend"
_CHUNK_BYTES = 1 << 20


class ReplayingEmulator(Emulator):
    """An emulator whose full-window `emailSend` export is replayed from `spool` once it has been recorded."""

    def __init__(self, dataset: Dataset, spool: Path, recorded: bool = False) -> None:
        super().__init__(dataset, rate_limits={})
        self.spool = spool
        self._recorded = recorded
        self._full_range = self._table().index_range(Dataset.EXPORT_START, Dataset.EXPORT_END)

    def _table(self) -> EventTable:
        table = self.dataset.event_table(DATA_TYPE)
        if table is None:
            raise ValueError(f"the emulator's data set has no {DATA_TYPE} events")
        return table

    def _answer(
        self, method: str, path: str, params: dict[str, list[str]], api_key: str | None, *rest: Any
    ) -> Response:
        """`rest`: whatever else the emulator's `_answer` takes (the request body, ...), passed on unchanged."""
        response = super()._answer(method, path, params, api_key, *rest)
        if response.status != 200 or not self._is_full_window(path, params):
            return response
        if self._recorded:
            return Response(200, self._replay(), content_type=response.content_type)
        body = response.body
        lines = [body] if isinstance(body, bytes) else body
        return Response(200, self._record(lines), content_type=response.content_type)

    def _is_full_window(self, path: str, params: dict[str, list[str]]) -> bool:
        if path != EXPORT_PATH or params.get("dataTypeName") != [DATA_TYPE]:
            return False
        start, end = params.get("startDateTime"), params.get("endDateTime")
        if not start or not end:
            return False
        window = self._table().index_range(
            parse_iterable_datetime(start[0], "startDateTime"), parse_iterable_datetime(end[0], "endDateTime")
        )
        return window == self._full_range

    def _record(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        with self.spool.open("wb") as spool:
            for line in lines:
                spool.write(line)
                yield line
        self._recorded = True

    def _replay(self) -> Iterator[bytes]:
        with self.spool.open("rb") as spool:
            while chunk := spool.read(_CHUNK_BYTES):
                yield chunk
