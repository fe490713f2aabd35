"""Template content streams: one strict body per template, and one log line for the templates without content.

A content stream (`template_content` in the manifest) is the CDK's own substream: a SubstreamPartitionRouter over
the `templates` list of one medium with `incremental_dependency` (the list's state picks the changed templates), a
requester per template, a global cursor. Three small parts are added, because a 404 (no content in the default
locale) must be skipped with a count in one log line for the stream, not one line per template (the CDK logs each
IGNOREd response), and a body must be a template:

- `TemplateContentExtractor` reads one body: a JSON object with `templateId`;
- `TemplateContentRouter` hands out each changed template once and says when the last one has been handed out;
- `TemplateContentRetriever` reads one template per partition and logs the summary when the last one is read.
"""

import logging
import threading
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.partition_routers.substream_partition_router import SubstreamPartitionRouter
from airbyte_cdk.sources.declarative.requesters.request_options.request_options_provider import (
    RequestOptionsProvider,
)
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import StreamSlice
from airbyte_cdk.utils.datetime_helpers import ab_datetime_parse

from source_iterable.components.rest_body import error_envelope, excerpt, is_error_envelope, json_body, unexpected_body

LOGGER = logging.getLogger("airbyte")

EXPECTED_BODY = "a JSON object with templateId (the template's content)"


@dataclass
class TemplateContentExtractor(RecordExtractor):
    """The one record of a `templates/{medium}/get` body: a JSON object with `templateId`.

    Not StrictRecordsExtractor: with `field_path: []` it takes any JSON object, so `{}` would become a record
    without its primary key. (A 404 never reaches an extractor: the retriever reads no record from it.)
    """

    parameters: InitVar[Mapping[str, Any]]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        body = json_body(response, EXPECTED_BODY)
        if body is None:
            return
        if not isinstance(body, dict) or "templateId" not in body:
            what = error_envelope(body) if is_error_envelope(body) else f"other JSON: {excerpt(response.content)}"
            raise unexpected_body(response, what, EXPECTED_BODY)
        yield body


class ReadTally:
    """How many templates were handed out, read, and read without content; calls `on_complete(read, empty)` once,
    when every template handed out has been read and the list is done. Thread-safe: templates are handed out by
    one thread and read by several."""

    def __init__(self) -> None:
        self.on_complete: Callable[[int, int], None] | None = None
        self._lock = threading.Lock()
        self._handed_out = 0
        self._read = 0
        self._empty = 0
        self._listed = False
        self._completed = False

    def handed_out(self) -> None:
        with self._lock:
            self._handed_out += 1

    def listing_done(self) -> None:
        with self._lock:
            self._listed = True
            complete = self._complete()
        self._notify(complete)

    def read(self, empty: bool) -> None:
        with self._lock:
            self._read += 1
            self._empty += empty
            complete = self._complete()
        self._notify(complete)

    def _complete(self) -> bool:
        if self._completed or not self._listed or self._read < self._handed_out:
            return False
        self._completed = True
        return True

    def _notify(self, complete: bool) -> None:
        if complete and self.on_complete is not None:
            self.on_complete(self._read, self._empty)


@dataclass
class TemplateContentRouter(SubstreamPartitionRouter):
    """SubstreamPartitionRouter over the template list that hands out each changed template once and tells its
    tally when the last one has been handed out.

    Not SubstreamPartitionRouter alone:
    - the stream's summary line waits for the last template, which only the router knows (the templates are read
      in other threads, in any order);
    - the list's client-side cursor keeps the templates whose updatedAt *equals* its saved value (the newest one of
      each template type, read by the previous sync): they are not handed out again, so a sync of unchanged
      templates asks for no content at all. (A template saved in the same millisecond as that newest one but after
      the previous sync listed it would be missed; the list's state holds no ids to tell them apart.)
    - a template listed twice (pages shifting while templates are created) is handed out once: the cursor would
      drop the duplicate unread, and the tally would wait for it forever.
    """

    tally: ReadTally = field(default_factory=ReadTally, init=False)

    def stream_slices(self) -> Iterable[StreamSlice]:
        parent = self.parent_stream_configs[0]
        partition_field = parent.partition_field
        key_field = (
            partition_field.eval(self.config) if isinstance(partition_field, InterpolatedString) else partition_field
        )
        saved = _saved_cursor_values(parent.stream.cursor)
        seen: set[Any] = set()
        for stream_slice in super().stream_slices():
            template_id = stream_slice.partition.get(key_field)
            if template_id in seen or _is_saved(stream_slice, saved):
                continue
            seen.add(template_id)
            self.tally.handed_out()
            yield stream_slice
        self.tally.listing_done()


class _SavedCursors(NamedTuple):
    by_partition: dict[frozenset[tuple[str, Any]], datetime]
    default: datetime | None


def _saved_cursor_values(cursor: Cursor) -> _SavedCursors:
    """The list's incoming cursor value per list partition (templateType × messageMedium), and its global one."""
    cursor_field = getattr(cursor, "cursor_field", None)
    if cursor_field is None:  # a full refresh: nothing was read before
        return _SavedCursors({}, None)
    cursor_key = cursor_field.cursor_field_key
    state = cursor.state
    by_partition = {}
    for entry in state.get("states") or []:
        moment = _instant((entry.get("cursor") or {}).get(cursor_key))
        if moment is not None:
            by_partition[frozenset(entry["partition"].items())] = moment
    return _SavedCursors(by_partition, _instant((state.get("state") or {}).get(cursor_key)))


def _is_saved(stream_slice: StreamSlice, saved: _SavedCursors) -> bool:
    """Whether the template's updatedAt is its list partition's saved cursor value (read by the previous sync)."""
    parent_slice = stream_slice.partition.get("parent_slice") or {}
    moment = saved.by_partition.get(frozenset(parent_slice.items()), saved.default)
    return moment is not None and _instant((stream_slice.extra_fields or {}).get("updatedAt")) == moment


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return ab_datetime_parse(value)
    except ValueError:
        return None


@dataclass
class TemplateContentRetriever(SimpleRetriever):
    """SimpleRetriever of one template per partition that logs, once the stream's last template is read, how many
    had no content in the default locale.

    Not SimpleRetriever: nothing in it runs when a stream's last partition is read. A template read without a
    record is one Iterable answered 404 for (the requester lets only the 404 through without a record: a 401/403
    fails the stream). As for any custom retriever, the factory hands the request options (the partition's
    templateId) over as `request_options_provider`, set here where SimpleRetriever reads them.
    """

    partition_router: PartitionRouter | None = None
    request_options_provider: RequestOptionsProvider | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        if self.request_options_provider is not None:
            self.request_option_provider = self.request_options_provider
        if not isinstance(self.partition_router, TemplateContentRouter):
            raise ValueError(f"{self.name}: TemplateContentRetriever needs a TemplateContentRouter")
        self._tally = self.partition_router.tally
        self._tally.on_complete = self._summarise

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        records = 0
        for record in super().read_records(records_schema, stream_slice):
            records += 1
            yield record
        self._tally.read(empty=records == 0)

    def _summarise(self, read: int, empty: int) -> None:
        if empty:
            LOGGER.info(
                f"{self.name}: {empty} of {read} templates read have no content in the default locale "
                "(Iterable answered 404); they were skipped."
            )
