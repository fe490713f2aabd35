"""Campaign and experiment metrics read only where they can still change, in URL-sized batches of campaign ids."""

import logging
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import requests
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
from source_iterable.components.metric_row import MetricRowTyping
from source_iterable.components.metrics_csv import BadMetricsBody, asked, bad_answer, quoted, read_metrics_csv
from source_iterable.export.checkpoint import observe_cursor_end

LOGGER = logging.getLogger("airbyte")

DAY_FORMAT = "%Y-%m-%d"
# Slice bounds of the lifetime streams' cursor (its `datetime_format`).
MOMENT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class CampaignMetricsRetriever(Retriever):
    """Read a metrics endpoint (`campaigns/metrics`, `experiments/metrics`: CSV) for the campaigns whose numbers can
    still change, in as few requests as fit.

    Why not SimpleRetriever + GroupingPartitionRouter: the campaigns to read depend on the state (the previous
    sync's time) and on each campaign's state and dates, and the batch size on the URL length, not a count;
    a partition router with a cursor would keep one state entry per batch (per-partition state).

    One cursor slice per sync, `[start_time, end_time]`:
    - lifetime (`per_day` false): the slice starts at the previous sync's time (first sync and full refresh:
      1970, so every campaign). The campaigns `needs_lifetime_read` keeps are asked for their totals over
      `startDateTime`=start_date … `endDateTime`=end_date (when set; the day before with `inclusive_end`, for an
      endpoint whose end is inclusive), in batches of as many `campaignId`s as keep the URL under 2,048 characters
      on the longer real host. Each row gets the cursor field = `end_time` (the time the slice was made, before the
      campaigns were listed: when these numbers were read), and when every batch is emitted the cursor observes
      `end_time`: the state is that one moment.
    - per day (`per_day` true): each UTC day from the state's day − lookback (first sync: the last
      `first_sync_days`, the slice then starting at start_date) to the slice's end, oldest first, for the campaigns
      active that day (`activity_days`: startAt … endedAt + lookback), one request per URL batch with
      `startDateTime`=day and
      `endDateTime`=day + 1 (exclusive); each row gets the cursor field (`date`) = that day. The cursor then
      observes the slice's last day, so a day is read again until it is older than the lookback. (The lookback is
      applied here, not by the cursor's `lookback_window`, and the first-sync limit too, not by a moving
      `start_datetime`: the cursor clamps its lower bound to `start_datetime`, which would skip days after a pause.)
    Every body must be the CSV asked for (`metrics_csv.read_metrics_csv`: a header naming `key_columns`, whole
    numbers in them, the first one naming the campaign), hold rows only for campaigns asked and, with
    `row_per_campaign` (campaigns/metrics), a row for each campaign asked that has started (one not yet started has
    no numbers): anything else fails the stream. A batch is checked whole before its rows are emitted.
    Each row is typed by `MetricRowTyping` from the stream's schema (`camel_case`: `experimentId` →
    `experiment_id`), then given to the stream's `transformations`. Rows are emitted without a slice (their values
    do not move the state); the state moves only after the last batch, and not at all when no campaign was listed
    (a key refused on `campaigns` must not mark them read).
    `campaigns` is a SubstreamPartitionRouter over the `campaigns` stream whose extra_fields carry the fields
    the selection reads. A 401/403 on metrics (logged by the error handler) ends the stream without state.
    """

    requester: HttpRequester
    campaigns: PartitionRouter
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    name: str = ""
    per_day: bool = False
    lookback_days: int | str = 15
    first_sync_days: int | str = 30
    key_columns: list[str] = field(default_factory=lambda: ["id"])
    row_per_campaign: bool = True
    inclusive_end: bool = False
    camel_case: bool = False
    max_url_length: int = MAX_URL_LENGTH
    transformations: list[RecordTransformation] = field(default_factory=list)
    cursor: Cursor | None = None
    clock: Callable[[], datetime] = _utc_now

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._lookback = timedelta(days=self._eval_int(self.lookback_days, parameters))
        self._first_sync_days = timedelta(days=self._eval_int(self.first_sync_days, parameters))
        self._path = f"/api/{parameters['endpoint']}"
        self._base_url = padded_base_url(str(self.config.get("api_base", "")), self._path)
        self._expected = f"a CSV whose header names {quoted(self.key_columns)}"

    def _eval_int(self, value: int | str, parameters: Mapping[str, Any]) -> int:
        return int(InterpolatedString.create(str(value), parameters=parameters or {}).eval(self.config))

    def read_records(
        self, records_schema: Mapping[str, Any], stream_slice: StreamSlice | None = None
    ) -> Iterable[StreamData]:
        if stream_slice is None:
            raise ValueError(f"{self.name}: the metrics retriever reads one cursor slice at a time")
        typing = MetricRowTyping(records_schema.get("properties") or {}, self.camel_case)
        campaigns = self._list_campaigns()
        if self.per_day:
            first, last = self._days(stream_slice)
            completed = yield from self._read_days(campaigns, first, last, typing, stream_slice)
        else:
            since = datetime.strptime(stream_slice["start_time"], MOMENT_FORMAT).replace(tzinfo=UTC)
            selected = [c for c in campaigns if needs_lifetime_read(c, since, self._lookback)]
            LOGGER.info(f"{self.name}: {len(selected)} of {len(campaigns)} campaigns can have new numbers.")
            completed = yield from self._read_range(
                selected, self._lifetime_range(), stream_slice["end_time"], typing, stream_slice
            )
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
        end = self.config.get("end_datetime")
        if end:
            last = datetime.fromisoformat(end.replace("Z", "+00:00")) - timedelta(seconds=1)
            params.append(("endDateTime", last.strftime(DAY_FORMAT) if self.inclusive_end else end[:10]))
        return params

    def _read_days(
        self, campaigns: list[Campaign], first: date, last: date, typing: MetricRowTyping, stream_slice: StreamSlice
    ) -> Generator[StreamData, None, bool]:
        spans = [(campaign, activity_days(campaign, self._lookback)) for campaign in campaigns]
        day = first
        while day <= last:
            active = [campaign for campaign, days in spans if active_on(days, day)]
            following = day + timedelta(days=1)
            params = [("startDateTime", day.strftime(DAY_FORMAT)), ("endDateTime", following.strftime(DAY_FORMAT))]
            completed = yield from self._read_range(active, params, day.strftime(DAY_FORMAT), typing, stream_slice)
            if not completed:
                return False
            day += timedelta(days=1)
        return True

    def _read_range(
        self,
        campaigns: list[Campaign],
        params: list[tuple[str, str]],
        stamp: str,
        typing: MetricRowTyping,
        stream_slice: StreamSlice,
    ) -> Generator[StreamData, None, bool]:
        """Every batch of `campaigns` over one date range, each row stamped with the cursor field = `stamp`;
        False when a batch was refused (and skipped)."""
        by_id = {campaign.id: campaign for campaign in campaigns}
        stamp_field = self._cursor_field()
        for batch in url_batches(list(by_id), self._base_url, params, self.max_url_length):
            request_params = {"campaignId": batch, **dict(params)}
            response = self.requester.send_request(stream_slice=stream_slice, request_params=request_params)
            if response is None or response.status_code >= 400:
                return False
            try:
                rows = self._checked_rows(response, request_params, [by_id[i] for i in batch])
            finally:
                response.close()
            for row in rows:
                typing.transform(row)
                for transformation in self.transformations:
                    transformation.transform(row, config=self.config, stream_slice=stream_slice)
                if stamp_field is not None:
                    row[stamp_field] = stamp
                yield Record(data=row, stream_name=self.name, associated_slice=None)
        return True

    def _checked_rows(
        self, response: requests.Response, request_params: Mapping[str, Any], batch: list[Campaign]
    ) -> list[dict[Any, Any]]:
        """The rows of a body that answers this batch, or a traced error naming what came back."""
        request = asked(response, request_params)
        content_type = response.headers.get("Content-Type", "no Content-Type")
        try:
            table = read_metrics_csv(response.content, content_type, self.key_columns)
        except BadMetricsBody as bad:
            raise bad_answer(request, str(bad), self._expected) from None
        wanted = {campaign.id for campaign in batch}
        unasked = [campaign_id for campaign_id in table.campaign_ids if campaign_id not in wanted]
        if unasked:
            raise bad_answer(request, f"a row for campaign {unasked[0]}, which was not asked for", self._expected)
        if self.row_per_campaign:
            now = self.clock()
            answered = set(table.campaign_ids)
            missing = [c.id for c in batch if c.id not in answered and c.start_at is not None and c.start_at <= now]
            if missing:
                shown = ", ".join(missing[:5]) + (", …" if len(missing) > 5 else "")
                raise bad_answer(
                    request,
                    f"no row for {len(missing)} of the {len(batch)} campaigns asked that have started ({shown}); "
                    "a campaign deleted since it was listed is not asked for again",
                    f"{self._expected} and one row per campaign asked",
                )
        return table.rows

    def _cursor_field(self) -> str | None:
        cursor_field = getattr(self.cursor, "cursor_field", None)
        return None if cursor_field is None else str(cursor_field.cursor_field_key)


def _parse_day(value: str) -> date:
    return datetime.strptime(value[:10], DAY_FORMAT).date()
