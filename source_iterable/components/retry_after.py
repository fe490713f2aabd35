"""Iterable's `Retry-After`, believed only within reason."""

import email.utils
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import BackoffStrategy
from airbyte_cdk.sources.types import Config

logger = logging.getLogger("airbyte")

_SECONDS = re.compile(r"^\d{1,12}(\.\d+)?$")


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay-seconds or an HTTP-date); None for anything else.

    Nonsense — `inf`, `nan`, negative or exponent forms, a date in the past, garbage — is None: the caller then
    waits its default backoff instead of crashing on `time.sleep(inf)` or retrying at once.
    """
    if value is None:
        return None
    text = value.strip()
    if _SECONDS.match(text):
        return float(text)
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    seconds = moment.timestamp() - now
    return seconds if math.isfinite(seconds) and seconds > 0 else None


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
