"""Which campaigns' metrics can still change, on which days, and how many campaign ids fit in one URL.

Pure functions over the campaign fields the `campaigns` stream lists; the metrics retriever applies them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote_plus, urlencode

# States in which a campaign sends, or is about to: its numbers move whatever its dates say.
ACTIVE_STATES = frozenset({"Running", "Recurring", "Scheduled", "Starting"})

# Iterable rejects request URIs longer than this (414); counted with the scheme and host.
MAX_URL_LENGTH = 2048
# The longer of Iterable's two hosts: batches sized for it fit the US host too.
LONGEST_HOST = "https://api.eu.iterable.com"

_ID_PARAMETER = "campaignId"


def parse_moment(value: Any) -> datetime | None:
    """An Iterable campaign timestamp as a UTC datetime: epoch milliseconds (REST) or an RFC 3339 string.

    None for a missing or unreadable value: callers treat an unknown date as "may still change".
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return parse_moment(int(text))
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return None


@dataclass(frozen=True)
class Campaign:
    """The fields of one listed campaign that decide whether its metrics are read."""

    id: str
    state: str | None
    created_at: datetime | None
    updated_at: datetime | None
    start_at: datetime | None
    ended_at: datetime | None

    @classmethod
    def from_fields(cls, campaign_id: Any, fields: Mapping[str, Any]) -> Campaign:
        state = fields.get("campaignState")
        return cls(
            id=str(campaign_id),
            state=state if isinstance(state, str) else None,
            created_at=parse_moment(fields.get("createdAt")),
            updated_at=parse_moment(fields.get("updatedAt")),
            start_at=parse_moment(fields.get("startAt")),
            ended_at=parse_moment(fields.get("endedAt")),
        )

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    def settled_at(self) -> datetime | None:
        """When the campaign stopped: `endedAt`, else (not active, no end) its last change; None while it runs."""
        if self.active:
            return None
        return self.ended_at or self.updated_at


def needs_lifetime_read(campaign: Campaign, since: datetime, lookback: timedelta) -> bool:
    """Whether a sync whose previous sync listed campaigns at `since` must read this campaign's totals again.

    Read: a campaign that runs (or is about to), one created since the previous sync (never read), one with no
    date to judge by, and a stopped one whose `endedAt` + lookback was still ahead at the previous sync. So a
    stopped campaign is read by every sync until the first one after its lookback has passed — one last time
    with its final numbers — and never again.
    """
    if campaign.active or campaign.created_at is None or campaign.created_at >= since:
        return True
    settled = campaign.settled_at()
    return settled is None or since < settled + lookback


def activity_days(campaign: Campaign, lookback: timedelta) -> tuple[date, date | None] | None:
    """The UTC days on which the campaign can have metrics: from `startAt` to `endedAt` + lookback.

    None for a campaign that never started (draft, ready); an open end (None) while it runs or has no end date.
    """
    if campaign.start_at is None:
        return None
    settled = campaign.settled_at()
    return campaign.start_at.date(), (settled + lookback).date() if settled is not None else None


def active_on(days: tuple[date, date | None] | None, day: date) -> bool:
    if days is None:
        return False
    first, last = days
    return first <= day and (last is None or day <= last)


def url_length(base_url: str, ids: Sequence[str], params: Sequence[tuple[str, str]]) -> int:
    """Length of `base_url?campaignId=…&…&<params>` as requests encodes it."""
    query = urlencode([(_ID_PARAMETER, campaign_id) for campaign_id in ids] + list(params))
    return len(base_url) + 1 + len(query)


def url_batches(
    ids: Iterable[str], base_url: str, params: Sequence[tuple[str, str]], max_length: int = MAX_URL_LENGTH
) -> list[list[str]]:
    """Consecutive batches of ids, each as large as keeps `base_url?campaignId=…&<params>` under `max_length`.

    `base_url` is the metrics URL on the host the batch must fit (the longest one: see `padded_base_url`).
    """
    fixed = len(base_url) + 1 + len(urlencode(list(params)))
    batches: list[list[str]] = []
    batch: list[str] = []
    length = fixed
    for campaign_id in ids:
        cost = len(_ID_PARAMETER) + 1 + len(quote_plus(campaign_id)) + 1  # "campaignId=<id>&"
        if batch and length + cost >= max_length:
            batches.append(batch)
            batch, length = [], fixed
        if fixed + cost >= max_length:
            raise ValueError(f"campaign id {campaign_id!r} alone makes a metrics URL of {max_length}+ characters")
        batch.append(campaign_id)
        length += cost
    if batch:
        batches.append(batch)
    return batches


def padded_base_url(api_base: str, path: str) -> str:
    """The metrics URL on `api_base`, padded to the longer real host so a batch fits every data center."""
    host = api_base if len(api_base) >= len(LONGEST_HOST) else LONGEST_HOST
    return f"{host}{path}"
