"""REST retries waited by the connector's one request policy (request_policy.py)."""

import time
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import BackoffStrategy
from airbyte_cdk.sources.types import Config

from source_iterable.request_policy import BACKOFF, rate_limit_wait


@dataclass
class PolicyBackoff(BackoffStrategy):
    """The wait before a REST request is sent again, as on every other path (request_policy.py): an answer with
    `Retry-After`, or any 429, waits `rate_limit_wait` (the value, at most 60 s, with a warning when cut; none or
    nonsense: 60 s, the window of a per-minute limit); a 5xx, a dropped connection or a timeout waits `BACKOFF`
    (2, 4, 8, 16, 30 s). The manifest's `max_retries` bounds the attempts (bounds.REQUEST_TRIES).

    Not WaitTimeFromHeader + ExponentialBackoffStrategy: WaitTimeFromHeader obeys `Retry-After: 86400` (24 h per try)
    and crashes with OverflowError on `inf`, its `max_waiting_time_in_seconds` fails the stream instead of waiting the
    cap, and the exponential backoff retries a 429 of a per-minute limit after 2 s.
    """

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    clock: Callable[[], float] = field(default=time.time)

    def backoff_time(
        self, response_or_exception: requests.Response | requests.RequestException | None, attempt_count: int
    ) -> float | None:
        if isinstance(response_or_exception, requests.Response) and (
            response_or_exception.status_code == 429 or "Retry-After" in response_or_exception.headers
        ):
            path = urlsplit(response_or_exception.request.url or "").path
            return rate_limit_wait(response_or_exception.headers, self.clock(), path)
        return BACKOFF.wait(attempt_count)
