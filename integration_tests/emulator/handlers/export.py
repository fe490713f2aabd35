"""`GET export/data.json`: one JSON object per line, filtered by the half-open window, streamed, not sorted."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ..dataset import DATA_TYPE_ALIASES, DATA_TYPES, USER_DATA_TYPE, Dataset
from ..responses import BadRequest, Response
from .request import Request, parse_iterable_datetime

# Records of a window are emitted block by block, each block in a shuffled-looking but fixed order.
_BLOCK = 64
_RANGES = ("Today", "Yesterday", "BeforeToday", "All")
_ENCODER = json.JSONEncoder(separators=(",", ":"))
_EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
_LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class ExportQuery:
    """What an export request asks for, once its parameters are parsed (the render cache's key)."""

    data_type: str
    start: datetime
    end: datetime
    only: tuple[str, ...]
    omit: tuple[str, ...]
    campaign: str | None


def export_json(request: Request) -> Response:
    query = parse_export_query(request)
    return Response(
        200, body(request.dataset, query, request.options.export_cache), content_type="application/x-json-stream"
    )


def body(dataset: Dataset, query: ExportQuery, cache: ExportCache | None) -> Iterator[bytes]:
    """The export body for a query: rendered, or replayed from the cache (then in multi-line chunks)."""
    if cache is None:
        return render(dataset, query)
    return cache.body(cache_key(dataset, query), lambda: render(dataset, query))


def parse_export_query(request: Request) -> ExportQuery:
    data_type = request.first("dataTypeName")
    if not data_type:
        raise BadRequest("Missing required parameter dataTypeName")
    if data_type != USER_DATA_TYPE and DATA_TYPE_ALIASES.get(data_type, data_type) not in DATA_TYPES:
        raise BadRequest(f"Invalid dataTypeName: {data_type}")
    start, end = _window(request)
    return ExportQuery(
        DATA_TYPE_ALIASES.get(data_type, data_type),
        start,
        end,
        tuple(_field_list(request, "onlyFields")),
        tuple(_field_list(request, "omitFields")),
        request.first("campaignId"),
    )


def render(dataset: Dataset, query: ExportQuery) -> Iterator[bytes]:
    """The body's lines, computed record by record (never the whole body in memory)."""
    records = (
        _users(dataset, query.start, query.end)
        if query.data_type == USER_DATA_TYPE
        else _events(dataset, query.data_type, query.start, query.end)
    )
    if query.campaign:
        records = (r for r in records if str(r.get("campaignId")) == query.campaign)
    return _encode(records, query.only, query.omit)


def cache_key(dataset: Dataset, query: ExportQuery) -> str:
    """Equal for two queries that select the same records (windows that differ only where there are no events)."""
    if query.data_type == USER_DATA_TYPE:
        selection: tuple[Any, ...] = (query.start.isoformat(), query.end.isoformat())
    else:
        selected = dataset.event_table(query.data_type).index_range(query.start, query.end)
        selection = (selected.start, selected.stop)
    return repr((query.data_type, selection, query.only, query.omit, query.campaign))


class ExportCache:
    """Rendered export bodies kept as files, so a benchmark's repeated big window costs disk speed, not CPU.

    The first request for a query streams as it renders and keeps a copy; later ones replay the file.
    """

    _CHUNK = 1 << 20

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.directory / (hashlib.sha1(key.encode()).hexdigest() + ".jsonl")

    def body(self, key: str, make: Callable[[], Iterator[bytes]]) -> Iterator[bytes]:
        path = self.path(key)
        return self._replay(path) if path.exists() else self._keep(path, make())

    def warm(self, key: str, make: Callable[[], Iterator[bytes]]) -> Path:
        """Render a body to its file now (no HTTP), unless it is already there."""
        path = self.path(key)
        if not path.exists():
            for _ in self._keep(path, make()):
                pass
        return path

    def _replay(self, path: Path) -> Iterator[bytes]:
        with path.open("rb") as body:
            while chunk := body.read(self._CHUNK):
                yield chunk

    def _keep(self, path: Path, lines: Iterator[bytes]) -> Iterator[bytes]:
        partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.partial")
        kept = False
        try:
            with partial.open("wb") as copy:
                for line in lines:
                    copy.write(line)
                    yield line
            partial.replace(path)  # only a completely rendered body is kept
            kept = True
        finally:
            if not kept:
                partial.unlink(missing_ok=True)


def _window(request: Request) -> tuple[datetime, datetime]:
    raw_start, raw_end = request.first("startDateTime"), request.first("endDateTime")
    if raw_start or raw_end:
        start = parse_iterable_datetime(raw_start, "startDateTime") if raw_start else _EARLIEST
        end = parse_iterable_datetime(raw_end, "endDateTime") if raw_end else _LATEST
        return start, end
    chosen = request.first("range") or "Today"
    if chosen not in _RANGES:
        raise BadRequest(f"Invalid range: {chosen}. Expected one of {', '.join(_RANGES)}")
    today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "Today": (today, today + timedelta(days=1)),
        "Yesterday": (today - timedelta(days=1), today),
        "BeforeToday": (_EARLIEST, today),
        "All": (_EARLIEST, _LATEST),
    }[chosen]


def _field_list(request: Request, name: str) -> list[str]:
    return [field for value in request.params.get(name, []) for field in value.split(",") if field]


def unsorted(indexes: range) -> Iterator[int]:
    """The indexes of `indexes`, deterministically out of order: odd offsets, then even, per block, reversed."""
    for block_start in range(indexes.start, indexes.stop, _BLOCK):
        block = range(block_start, min(block_start + _BLOCK, indexes.stop))
        yield from reversed(block[1::2])
        yield from block[0::2]


def _events(dataset: Dataset, data_type: str, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    table = dataset.event_table(data_type)
    for index in unsorted(table.index_range(start, end)):
        yield table[index]


def _users(dataset: Dataset, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    selected = [i for i, user in enumerate(dataset.users) if start <= dataset.user_updated_at(user) < end]
    for position in unsorted(range(len(selected))):
        yield dataset.users[selected[position]]


def _encode(records: Iterable[dict[str, Any]], only: Sequence[str], omit: Sequence[str]) -> Iterator[bytes]:
    for record in records:
        if only:
            record = {key: value for key, value in record.items() if key in only}
        if omit:
            record = {key: value for key, value in record.items() if key not in omit}
        yield _ENCODER.encode(record).encode() + b"\n"
