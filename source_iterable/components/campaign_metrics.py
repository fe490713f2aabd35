"""Campaign metrics read only where they can still change, in URL-sized batches of campaign ids."""

import logging
from collections.abc import Generator, Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from airbyte_cdk.sources.declarative.decoders.decoder import Decoder
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.partition_routers.partition_router import PartitionRouter
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.declarative.retrievers.retriever import Retriever
from airbyte_cdk.sources.declarative.transformations.transformation import RecordTransformation
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor
from airbyte_cdk.sources.streams.core import StreamData
from airbyte_cdk.sources.types import Config, Record, StreamSlice

from source_iterable.components.campaign_selection import (
    MAX_URL_LENGTH,
    Campaign,
    active_on,
    activity_days,
    needs_lifetime_read,
    padded_base_url,
    url_batches,
)
from source_iterable.export.checkpoint import observe_cursor_end

LOGGER = logging.getLogger("airbyte")

METRICS_PATH = "/api/campaigns/metrics"
DAY_FORMAT = "%Y-%m-%d"
# Slice bounds of the lifetime stream's cursor (its `datetime_format`).
MOMENT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class CampaignMetricsRetriever(Retriever):
    """Read `GET campaigns/metrics` for the campaigns whose numbers can still change, as few requests as fit.

    Why not SimpleRetriever + GroupingPartitionRouter: the campaigns to read depend on the state (the previous
    sync's time) and on each campaign's state and dates, and the batch size on the URL length, not a count;
    a partition router with a cursor would keep one state entry per batch (per-partition state).

    One cursor slice per sync, `[start_time, end_time]`:
    - lifetime (`per_day` false): the slice starts at the previous sync's time (first sync and full refresh:
      1970, so every campaign). The campaigns `needs_lifetime_read` keeps are asked for their totals over
      `startDateTime`=start_date … `endDateTime`=end_date (when set), in batches of as many `campaignId`s as keep
      the URL under 2,048 characters on the longer real host. When every batch is emitted the cursor observes
      `end_time` (the time the slice was made, before the campaigns were listed): the state is that one moment.
    - per day (`per_day` true): each UTC day from the state's day − lookback (first sync: the last
      `first_sync_days`, the slice then starting at start_date) to the slice's end, oldest first, for the campaigns active that day
      (`activity_days`: startAt … endedAt + lookback), one request per URL batch with `startDateTime`=day and
      `endDateTime`=day + 1 (exclusive); each row gets `date`. The cursor then observes the slice's last day,
      so a day is read again until it is older than the lookback. (The lookback is applied here, not by the
      cursor's `lookback_window`, and the first-sync limit too, not by a moving `start_datetime`: the cursor
      clamps its lower bound to `start_datetime`, which would skip days after a pause.)
    Rows are emitted without a slice (their values do not move the state); the state moves only after the last
    batch, and not at all when no campaign was listed (a key refused on `campaigns` must not mark them read).
    `campaigns` is a SubstreamPartitionRouter over the `campaigns` stream whose extra_fields carry the fields
    the selection reads. A 401/403 on metrics (logged by the error handler) ends the stream without state.
    """

    requester: HttpRequester
    decoder: Decoder
    campaigns: PartitionRouter
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    name: str = ""
    per_day: bool = False
    lookback_days: int | str = 15
    first_sync_days: int | str = 30
    max_url_length: int = MAX_URL_LENGTH
    transformations: list[RecordTransformation] = field(default_factory=list)
    cursor: Cursor | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._lookback = timedelta(days=self._eval_int(self.lookback_days, parameters))
        self._first_sync_days = timedelta(days=self._eval_int(self.first_sync_days, parameters))
        # The requester is built by the factory without the retriever's decoder: make it stream the body.
        self.requester.stream_response = self.decoder.is_stream_response()
        self._base_url = padded_base_url(str(self.config.get("api_base", "")), METRICS_PATH)

    def _eval_int(self, value: int | str, parameters: Mapping[str, Any]) -> int:
        return int(InterpolatedString.create(str(value), parameters=parameters or {}).eval(self.config))

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        if stream_slice is None:
            raise ValueError(f"{self.name}: the metrics retriever reads one cursor slice at a time")
        campaigns = self._list_campaigns()
        if self.per_day:
            first, last = self._days(stream_slice)
            completed = yield from self._read_days(campaigns, first, last, stream_slice)
        else:
            since = datetime.strptime(stream_slice["start_time"], MOMENT_FORMAT).replace(tzinfo=UTC)
            selected = [c.id for c in campaigns if needs_lifetime_read(c, since, self._lookback)]
            LOGGER.info(f"{self.name}: {len(selected)} of {len(campaigns)} campaigns can have new numbers.")
            completed = yield from self._read_range(selected, self._lifetime_range(), None, stream_slice)
        if completed and campaigns:
            observe_cursor_end(self.cursor, self.name, stream_slice, stream_slice["end_time"])

    def _days(self, stream_slice: StreamSlice) -> tuple[date, date]:
        """The days to read: the first sync (the slice starts at start_date) the last `first_sync_days`; later
        syncs from the state's day − lookback; never before start_date."""
        start_date = _parse_day(self.config["start_datetime"])
        first = _parse_day(stream_slice["start_time"])
        last = _parse_day(stream_slice["end_time"])
        if first == start_date:
            return max(first, last - self._first_sync_days + timedelta(days=1)), last
        return max(first - self._lookback, start_date), last

    def _list_campaigns(self) -> list[Campaign]:
        campaigns = []
        for partition in self.campaigns.stream_slices():
            fields = partition.extra_fields or {}
            campaigns.append(Campaign.from_fields(partition.partition["campaign_id"], fields))
        return campaigns

    def _lifetime_range(self) -> list[tuple[str, str]]:
        params = [("startDateTime", self.config["start_datetime"][:10])]
        if self.config.get("end_datetime"):
            params.append(("endDateTime", self.config["end_datetime"][:10]))
        return params

    def _read_days(
        self, campaigns: list[Campaign], first: date, last: date, stream_slice: StreamSlice
    ) -> Generator[StreamData, None, bool]:
        spans = [(campaign.id, activity_days(campaign, self._lookback)) for campaign in campaigns]
        day = first
        while day <= last:
            ids = [campaign_id for campaign_id, days in spans if active_on(days, day)]
            following = day + timedelta(days=1)
            params = [("startDateTime", day.strftime(DAY_FORMAT)), ("endDateTime", following.strftime(DAY_FORMAT))]
            completed = yield from self._read_range(ids, params, day.strftime(DAY_FORMAT), stream_slice)
            if not completed:
                return False
            day += timedelta(days=1)
        return True

    def _read_range(
        self, ids: list[str], params: list[tuple[str, str]], day: str | None, stream_slice: StreamSlice
    ) -> Generator[StreamData, None, bool]:
        """Every batch of `ids` over one date range; False when a batch was refused (and skipped)."""
        for batch in url_batches(ids, self._base_url, params, self.max_url_length):
            response = self.requester.send_request(
                stream_slice=stream_slice, request_params={"campaignId": batch, **dict(params)}
            )
            if response is None or response.status_code >= 400:
                return False
            try:
                for decoded in self.decoder.decode(response):
                    row = cast(dict[str, Any], decoded)
                    for transformation in self.transformations:
                        transformation.transform(row, config=self.config, stream_slice=stream_slice)
                    if day is not None:
                        row["date"] = day
                    yield Record(data=row, stream_name=self.name, associated_slice=None)
            finally:
                response.close()
        return True


def _parse_day(value: str) -> date:
    return datetime.strptime(value[:10], DAY_FORMAT).date()
