"""Iterable's `Retry-After`, believed only within reason."""

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import BackoffStrategy
from airbyte_cdk.sources.types import Config

from source_iterable.request_policy import retry_after_seconds

logger = logging.getLogger("airbyte")


@dataclass
class CappedRetryAfter(BackoffStrategy):
    """Wait what `Retry-After` says, at most `max_seconds` (with a WARNING saying so); no wait for nonsense.

    Not WaitTimeFromHeader: it obeys `Retry-After: 86400` (24 h per try, 10 tries) and crashes with OverflowError
    on `inf`, and its `max_waiting_time_in_seconds` fails the stream instead of waiting the cap. Returning None
    lets the next strategy (the manifest's exponential backoff) choose the wait.
    """

    parameters: InitVar[Mapping[str, Any]]
    config: Config
    max_seconds: float = 300.0
    header: str = "Retry-After"
    clock: Callable[[], float] = field(default=time.time)

    def backoff_time(
        self, response_or_exception: requests.Response | requests.RequestException | None, attempt_count: int
    ) -> float | None:
        if not isinstance(response_or_exception, requests.Response):
            return None
        value = response_or_exception.headers.get(self.header)
        seconds = retry_after_seconds(value, self.clock())
        path = urlsplit(response_or_exception.request.url or "").path
        if seconds is None:
            if value is not None:
                logger.warning(
                    f"Ignoring {self.header}: {value[:40]!r} from {path}, which is not a wait; backing off by default."
                )
            return None
        if seconds > self.max_seconds:
            logger.warning(
                f"Iterable asked to wait {seconds:g} s ({self.header}) on {path}; waiting {self.max_seconds:g} s, "
                "the longest this connector waits before one retry."
            )
            return self.max_seconds
        return seconds
