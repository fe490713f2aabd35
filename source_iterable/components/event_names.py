"""`custom_event_names`: keep only the custom events the user named."""

from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass
from typing import Any

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.types import StreamSlice, StreamState


@dataclass
class EventNameFilter(RecordFilter):
    """Keep a custom event only when its `eventName` is one of the config's `custom_event_names` (all when unset).

    Not the manifest's `RecordFilter` condition: it renders a Jinja expression per record (tens of µs each, on a
    stream of millions), and the export retriever reads records itself (it is not a `SimpleRetriever` with a
    record selector); this is one set lookup per record. Iterable's export API has no server-side filter on the
    event name, so the filter saves destination space, not export requests.
    """

    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        names = self.config.get("custom_event_names") or []
        self.names: frozenset[str] | None = frozenset(str(name) for name in names) if names else None

    def keeps(self, record: Mapping[str, Any]) -> bool:
        return self.names is None or record.get("eventName") in self.names

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: StreamSlice | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Iterable[Mapping[str, Any]]:
        return (record for record in records if self.keeps(record))
