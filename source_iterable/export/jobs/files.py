"""Downloads of an export job's files: pre-signed URLs, never the API key, and a bounded time per file."""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.bounds import (
    FILE_GRACE_SECONDS,
    FILE_MAX_BYTES,
    FILE_MIN_BYTES_PER_SECOND,
    FILE_TIMEOUT_SECONDS,
)
from source_iterable.hosts import is_loopback

Clock = Callable[[], float]


class FileUnreadable(Exception):
    """A file's URL expired (403), its body was cut, trickled, or is not JSONL: list the files again for fresh URLs
    and read it again (`FILE_TRIES` times, then the job counts as failed)."""


class DownloadTooSlow(Exception):
    """A file's body came slower than `FILE_MIN_BYTES_PER_SECOND` (after `FILE_GRACE_SECONDS`)."""


def download_seconds(content_length: str | None) -> float:
    """The longest one file may take: the grace plus its size (Content-Length, else the largest assumed) at the
    minimum rate."""
    size = int(content_length) if content_length and content_length.isdigit() else FILE_MAX_BYTES
    return FILE_GRACE_SECONDS + size / FILE_MIN_BYTES_PER_SECOND


class BoundedBody:
    """`response.raw` read as it arrives (`read1`), failing once the download has lasted past its deadline (job
    files here, job-API answers in client.py).

    Why: the read timeout bounds the silence of one `recv`, so a body trickling a byte every few seconds never trips
    it; requests' `iter_content` reads 64 KiB at a time and would wait for all of them. This stream hands on what
    arrived and looks at the clock between reads, so a trickle ends within the deadline plus one read timeout.
    Everything else (`tell`, `close`, …) is the underlying urllib3 response's.
    """

    def __init__(self, raw: Any, seconds: float, clock: Clock) -> None:
        self._raw = raw
        self._seconds = seconds
        self._clock = clock
        self._deadline = clock() + seconds

    def stream(self, amt: int = 1 << 16, decode_content: bool | None = None) -> Iterator[bytes]:
        while True:
            if self._clock() > self._deadline:
                raise DownloadTooSlow(f"download still running after {self._seconds:.0f} s (slower than allowed)")
            data = self._raw.read1(amt, decode_content=decode_content)
            if not data:
                return
            yield data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


@dataclass
class FileFetcher:
    """GET a pre-signed file URL: its own session (never the `Api-Key`), no redirects, https or loopback http only,
    and a body bounded in time by its size (`download_seconds`)."""

    timeout: tuple[float, float] = FILE_TIMEOUT_SECONDS
    session: requests.Session = field(default_factory=requests.Session)
    clock: Clock = time.monotonic

    def get(self, url: str) -> requests.Response:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if not (parts.scheme == "https" and host) and not (parts.scheme == "http" and is_loopback(host)):
            raise AirbyteTracedException(
                message=(
                    f"Iterable listed an export file at a URL that is not https ({parts.scheme}://{host}); "
                    "the connector does not download it."
                ),
                internal_message="file URL refused",
                failure_type=FailureType.system_error,
            )
        try:
            response = self.session.get(url, timeout=self.timeout, stream=True, allow_redirects=False)
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            raise FileUnreadable(error.__class__.__name__) from None
        if response.status_code == 200:
            response.raw = BoundedBody(
                response.raw, download_seconds(response.headers.get("Content-Length")), self.clock
            )
            return response
        status = response.status_code
        response.close()
        raise FileUnreadable(f"HTTP {status}")
