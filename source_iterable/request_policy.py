"""One request policy for every path: REST pages, metrics, export/data.json, the job API and job files.

- `retry_after_seconds`: the one Retry-After parser (delay-seconds or an HTTP-date; nonsense is None).
- `rate_limit_wait`: the wait after a 429: Retry-After, at most `RETRY_AFTER_CAP_SECONDS` (a cut is logged); none
  or nonsense waits the cap. A request answered 429 `RATE_LIMITED_TRIES` times in a row fails its stream.
- `BACKOFF`: the wait before the n-th retry of a 5xx, a dropped or refused connection or a timeout; a request fails
  after `REQUEST_TRIES` attempts (an export window is split instead, export/planner.py).
- `iterable_error`, `iterable_message`, `excerpt`, `mask`: what an error message quotes of an answer: Iterable's `code: msg`, else a
  short escaped excerpt (binary bytes never pasted), with the API key masked.
The numbers live in bounds.py.
"""

import email.utils
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets

from source_iterable.bounds import (
    BACKOFF_CAP_SECONDS,
    BACKOFF_FIRST_SECONDS,
    EXCERPT_CHARS,
    RETRY_AFTER_CAP_SECONDS,
)

LOGGER = logging.getLogger("airbyte")

_SECONDS = re.compile(r"^\d{1,12}(\.\d+)?$")


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay-seconds or an HTTP-date); None for anything else.

    Nonsense — `inf`, `nan`, negative or exponent forms, a date in the past, garbage — is None: the caller then
    waits its default instead of crashing on `time.sleep(inf)` or retrying at once.
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


def rate_limit_wait(headers: Mapping[str, str], now: float, where: str) -> float:
    """Seconds to wait after a 429 on `where`: Retry-After within [0, cap]; missing or nonsense: the cap.

    A value above the cap is cut, with a WARNING naming what Iterable asked for: every wait has an upper bound."""
    value = headers.get("Retry-After")
    seconds = retry_after_seconds(value, now)
    if seconds is None:
        if value is not None:
            LOGGER.warning(
                f"Ignoring Retry-After: {value[:40]!r} from {where}, which is not a wait; waiting "
                f"{RETRY_AFTER_CAP_SECONDS:g} s."
            )
        return RETRY_AFTER_CAP_SECONDS
    if seconds > RETRY_AFTER_CAP_SECONDS:
        LOGGER.warning(
            f"Iterable asked to wait {seconds:g} s (Retry-After) on {where}; waiting {RETRY_AFTER_CAP_SECONDS:g} s, "
            "the longest this connector waits before one retry."
        )
        return RETRY_AFTER_CAP_SECONDS
    return seconds


@dataclass(frozen=True)
class Backoff:
    """`first` × 2^(n−1) seconds before the n-th retry, at most `cap`."""

    first: float
    cap: float

    def wait(self, failures: int) -> float:
        return min(self.cap, self.first * 2.0 ** max(failures - 1, 0))


BACKOFF = Backoff(first=BACKOFF_FIRST_SECONDS, cap=BACKOFF_CAP_SECONDS)


def mask(text: str, secret: str) -> str:
    """`text` with the API key (and every secret the CDK knows of) replaced by ****: answers may echo it."""
    if secret:
        text = text.replace(secret, "****")
    return str(filter_secrets(text))


def excerpt(body: bytes, secret: str = "", size: int = EXCERPT_CHARS) -> str:
    """The start of a body as printable text: whitespace collapsed, bytes that are not UTF-8 escaped (`\\x8b`),
    control characters escaped, at most `size` characters (… when cut), the key masked."""
    text = body[: size * 4].decode("utf-8", errors="backslashreplace")
    text = "".join(char if char.isprintable() or char in " \t\r\n" else repr(char)[1:-1] for char in text)
    text = " ".join(text.split())
    cut = text[:size] + ("…" if len(text) > size or len(body) > size * 4 else "")
    return mask(cut, secret)


def iterable_error(body: bytes, secret: str = "") -> str | None:
    """Iterable's `code: msg` from an error body (`{msg, code, params}`), the key masked; None for any other body."""
    try:
        answer: Any = orjson.loads(body[:65536])
    except orjson.JSONDecodeError:
        return None
    if isinstance(answer, dict) and ("msg" in answer or "code" in answer):
        return mask(f"{answer.get('code')}: {str(answer.get('msg'))[: EXCERPT_CHARS * 2]}", secret)
    return None


def iterable_message(body: bytes, secret: str = "") -> str:
    """Iterable's `code: msg` from an error body (`iterable_error`), else `excerpt` of the body."""
    error = iterable_error(body, secret)
    return error if error is not None else excerpt(body, secret)
