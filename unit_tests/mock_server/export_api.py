"""A stand-in for Iterable's export API on requests-mock: records filtered by the half-open window, faults on demand."""

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests_mock

from unit_tests.mock_server.config import API_KEY, US_BASE

EXPORT_URL = f"{US_BASE}/api/export/data.json"
CHANNELS_URL = f"{US_BASE}/api/channels"
GET_FIELDS_URL = f"{US_BASE}/api/users/getFields"
Window = tuple[str, str, str]  # (dataTypeName, startDateTime, endDateTime) exactly as sent


def iterable_time(moment: str) -> str:
    """`2025-01-02T03:04:05Z` -> Iterable's export form `2025-01-02 03:04:05 +00:00`."""
    return f"{moment[:10]} {moment[11:19]} +00:00"


def an_event(created: str, number: int, **fields: Any) -> dict[str, Any]:
    """An export record in Iterable's raw form; `created` in RFC 3339, `number` makes its messageId unique."""
    return {
        "createdAt": iterable_time(created),
        "email": f"user{number}@example.com",
        "messageId": f"m-{number}",
        "campaignId": 100 + number % 3,
        "templateId": 200,
        **fields,
    }


def a_user(updated: str, email: str, **fields: Any) -> dict[str, Any]:
    return {"email": email, "profileUpdatedAt": iterable_time(updated), **fields}


class _CutBody(io.RawIOBase):
    """A body that sends `lines` and then drops the connection (a read error on the socket).

    Blank lines pad it past one 64 KiB read, so the lines reach the decoder before the error does (a client reads
    whole chunks: what arrived in the chunk being read when the connection drops is lost, as on a real socket).
    """

    def __init__(self, lines: list[bytes]) -> None:
        self._data = b"".join(lines) + b"\n" * 70_000
        self._position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._position >= len(self._data):
            raise ConnectionResetError("Connection reset by peer")
        size = min(len(buffer), len(self._data) - self._position)
        buffer[:size] = self._data[self._position : self._position + size]
        self._position += size
        return size


@dataclass
class Fault:
    """What the fake answers instead of the window's body, for `times` matching requests."""

    matches: Callable[[Window], bool]
    times: int
    status: int = 200
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cut_after_lines: int | None = None
    extra_line: str | None = None
    # None: any request; True: only probes (onlyFields); False: only requests for records.
    probe: bool | None = None


@dataclass
class ExportApi:
    """Iterable's `GET export/data.json`: records of `dataTypeName` with start <= createdAt < end, in reverse order
    (Iterable does not sort); every request is logged as (dataTypeName, startDateTime, endDateTime)."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    user_fields: dict[str, str] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    requests: list[Window] = field(default_factory=list)
    rejected_data_types: tuple[str, ...] = ()
    mocker: requests_mock.Mocker | None = field(default=None, init=False, repr=False)

    def install(self, mocker: requests_mock.Mocker) -> "ExportApi":
        self.mocker = mocker  # a test may register other answers on it: the last registration wins
        mocker.get(EXPORT_URL, body=self._export)
        mocker.get(GET_FIELDS_URL, json=lambda request, context: {"fields": self.user_fields})
        # The key check the export streams make when the export API refuses the key: the key reads the REST API.
        mocker.get(CHANNELS_URL, json={"channels": []})
        return self

    def add(self, data_type: str, *records: dict[str, Any]) -> "ExportApi":
        self.records.setdefault(data_type, []).extend(records)
        return self

    def fail(self, fault: Fault) -> "ExportApi":
        self.faults.append(fault)
        return self

    def window_records(self, data_type: str, start: str, end: str) -> list[dict[str, Any]]:
        low, high = _parse(start), _parse(end)
        return [
            r
            for r in self.records.get(data_type, [])
            if low <= _parse(r.get("createdAt") or r["profileUpdatedAt"]) < high
        ][::-1]

    def _export(self, request: Any, context: Any) -> io.RawIOBase:
        assert request.headers["Api-Key"] == API_KEY
        query = parse_qs(urlparse(request.url).query)
        only_fields = query.pop("onlyFields", [None])[0]
        assert sorted(query) == ["dataTypeName", "endDateTime", "startDateTime"], query
        window = (
            query["dataTypeName"][0],
            query["startDateTime"][0],
            query["endDateTime"][0],
        )
        # A probe (onlyFields) is logged with a fourth element naming the field asked for.
        self.requests.append((*window, f"onlyFields={only_fields}") if only_fields else window)  # type: ignore[arg-type]
        if window[0] in self.rejected_data_types:
            context.status_code = 400
            return io.BytesIO(
                json.dumps(
                    {
                        "msg": f"Invalid dataTypeName {window[0]}",
                        "code": "BadParams",
                        "params": None,
                    }
                ).encode()
            )
        records = self.window_records(*window)
        if only_fields:
            records = [{name: record[name] for name in only_fields.split(",") if name in record} for record in records]
        lines = [json.dumps(record).encode() + b"\n" for record in records]
        for fault in self.faults:
            if fault.times > 0 and fault.matches(window) and fault.probe in (None, bool(only_fields)):
                fault.times -= 1
                context.status_code = fault.status
                context.headers.update(fault.headers)
                if fault.body is not None:
                    return io.BytesIO(fault.body.encode())
                if fault.extra_line is not None:
                    return io.BytesIO(b"".join(lines[:1]) + fault.extra_line.encode() + b"\n" + b"".join(lines[1:]))
                return _CutBody(lines[: fault.cut_after_lines])
        return io.BytesIO(b"".join(lines))


def _parse(value: str) -> datetime:
    return datetime.strptime(value[:19].replace("T", " "), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def for_window(start: str, end: str, data_type: str | None = None) -> Callable[[Window], bool]:
    return lambda window: window[1:] == (start, end) and (data_type is None or window[0] == data_type)


def any_window(window: Window) -> bool:
    return True
