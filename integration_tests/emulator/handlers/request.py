"""The request as handlers see it, and Iterable's `yyyy-MM-dd HH:mm:ss [ZZ]` date parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ..responses import BadRequest

if TYPE_CHECKING:
    from ..dataset import Dataset
    from .export import ExportCache
    from .jobs import ExportJobs


@dataclass(frozen=True)
class Options:
    """Server behaviour switches a test may flip."""

    # Catalog endpoints whose JSON is wrapped in {msg, code: "Success", params: {...}} ("catalogs", "catalog_items",
    # "catalog_field_mappings").
    wrapped_catalog_responses: frozenset[str] = frozenset({"catalogs"})
    # Where rendered export bodies are kept and replayed (None: every request renders its body).
    export_cache: ExportCache | None = None
    # The organization's export jobs (POST export/start and friends).
    export_jobs: ExportJobs | None = None
    # GET templates answers 400 to a messageMedium outside the API definition's enum (Embedded among them).
    template_media_in_definition_only: bool = False


@dataclass
class Request:
    method: str
    path: str
    params: Mapping[str, list[str]]
    base_url: str
    dataset: Dataset
    options: Options
    path_params: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def first(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


_DATETIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2})(?: ?(?P<offset>Z|[+-]\d{2}:?\d{2}))?$"
)


def parse_iterable_datetime(raw: str, name: str) -> datetime:
    """`yyyy-MM-dd HH:mm:ss` with an optional offset (` +00:00`); UTC when absent. Anything else is a 400."""
    match = _DATETIME.match(raw)
    if not match:
        raise BadRequest(
            f"Invalid {name}: '{raw}'. Expected format: yyyy-MM-dd HH:mm:ss or yyyy-MM-dd HH:mm:ss ZZ "
            "(e.g. 2025-01-15 10:30:00 +00:00)"
        )
    try:
        moment = datetime.strptime(f"{match['date']} {match['time']}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise BadRequest(f"Invalid {name}: '{raw}' is not a valid date and time") from None
    offset = match["offset"]
    if offset in (None, "Z"):
        return moment.replace(tzinfo=timezone.utc)
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment.replace(tzinfo=timezone(delta if offset[0] == "+" else -delta)).astimezone(timezone.utc)
