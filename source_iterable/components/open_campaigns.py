"""Incremental `campaigns` whose rows never go stale: campaigns not final when last emitted are emitted again.

A campaign moves Scheduled → Running → Finished without its `updatedAt` changing, so a cursor on `updatedAt`
alone leaves the warehouse showing "Scheduled" forever, and re-emitting the campaigns that are not final *now*
misses the one that just finished. So the state keeps, beside the `updatedAt` cursor, the ids of the campaigns that
were not in a final state when last emitted (`open_campaign_ids`); every sync emits those whatever their
`updatedAt`, plus every campaign whose `updatedAt` moved, and drops an id once its campaign was emitted final.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from airbyte_cdk.sources.declarative.requesters.request_options.request_options_provider import (
    RequestOptionsProvider,
)
from airbyte_cdk.sources.declarative.retrievers.simple_retriever import SimpleRetriever
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import Record, StreamSlice

from source_iterable import cdk_adapter
from source_iterable.config_errors import config_error

# campaignState values (iterable-api.md) after which a campaign never changes state on its own. Every other one —
# Draft, Ready, Scheduled, Starting, Running, Recurring, Recalling, and any state Iterable adds — is open.
FINAL_CAMPAIGN_STATES = frozenset({"Finished", "Aborted", "Archived", "Recalled"})
OPEN_IDS_KEY = "open_campaign_ids"


@dataclass
class OpenCampaignsRetriever(SimpleRetriever):
    """SimpleRetriever of `GET campaigns` that also re-emits the campaigns open when last emitted (module docstring).

    Not the CDK's client-side incremental filter: it keeps only records whose cursor moved, and its state is one
    value. Not a partition router over the open ids: each would cost a request, while the list already has them.
    Incremental only: in full refresh (no cursor field) every campaign is emitted and nothing is kept.

    A state without `open_campaign_ids` (0.2.0's plain `updatedAt` cursor, Airbyte's connector, which read
    campaigns in full refresh) does not say which campaigns were open when emitted, so every campaign is emitted
    once more, which also refreshes rows left stale by those versions; the ids are kept from then on.
    """

    cursor: Cursor | None = None
    request_options_provider: RequestOptionsProvider | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        if self.request_options_provider is not None:
            self.request_option_provider = self.request_options_provider

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        cursor = self.cursor
        if cursor is None or getattr(cursor, "cursor_field", None) is None:
            yield from super().read_records(records_schema, stream_slice)
            return
        state = cursor.state
        tracked = OPEN_IDS_KEY in state
        open_before = _open_ids(state.get(OPEN_IDS_KEY)) if tracked else set()
        open_now: set[int] = set()
        for record in super().read_records(records_schema, stream_slice):
            if not isinstance(record, Record):
                yield record
                continue
            campaign_id = record.get("id")
            if tracked and campaign_id not in open_before and not cursor.should_be_synced(record):
                continue
            if record.get("campaignState") not in FINAL_CAMPAIGN_STATES and isinstance(campaign_id, int):
                open_now.add(campaign_id)
            yield record
        cdk_adapter.keep_in_state(cursor, OPEN_IDS_KEY, sorted(open_now))


def _open_ids(value: Any) -> set[int]:
    """The incoming open ids: a list of campaign ids (integers, or their digits), else a config error."""
    if isinstance(value, list) and all(_is_id(item) for item in value):
        return {int(item) for item in value}
    raise config_error(
        f"The state of stream 'campaigns' has {OPEN_IDS_KEY} {value!r}, which is not a list of campaign ids. "
        f"Remove {OPEN_IDS_KEY} from the state (every campaign is then emitted once) or reset the stream."
    )


def _is_id(item: Any) -> bool:
    return (isinstance(item, int) and not isinstance(item, bool)) or (isinstance(item, str) and item.isdigit())
