"""Error handler for REST requests: a skipped stream is logged as a WARNING, a refused key fails the sync, a
timeout is named as one."""

import logging
import threading
from dataclasses import dataclass, field

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

logger = logging.getLogger("airbyte")


@dataclass
class SkipWarningErrorHandler(DefaultErrorHandler):
    """DefaultErrorHandler that logs its IGNORE resolutions (a 401/403 the key may not read) as warnings, checks
    the key before skipping a 401, and words retried timeouts.

    The manifest's response filters decide everything about responses. This class raises the skip's log level
    (the CDK's HttpClient logs an IGNORE at INFO, where a user never looks for the reason a stream came back
    empty). Before skipping on a 401 it sends `key_probe` (GET channels, which every key can read) once per
    handler: a 401 there too means a wrong or revoked key, and the probe's config error fails the stream instead
    of every stream being skipped into an empty "successful" sync (issue 12). Streams run concurrently, so a
    verdict from a request of another stream is not needed: each asks the one endpoint that always answers.
    """

    key_probe: Requester | None = None
    _probe_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _key_checked: bool = field(default=False, init=False, repr=False)

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Timeout) and response_or_exception.request is not None:
            return _timed_out(response_or_exception)
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.IGNORE and resolution.error_message:
            if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code == 401:
                self._check_key()
            logger.warning(resolution.error_message)
        return resolution

    def _check_key(self) -> None:
        """Send the key probe unless this handler already did; its config error (401 on channels) propagates."""
        if self.key_probe is None:
            return
        with self._probe_lock:
            if self._key_checked:
                return
            self._key_checked = True
            self.key_probe.send_request()


def _timed_out(error: requests.Timeout) -> ErrorResolution:
    request = error.request
    what = f"{request.method} {request.url}" if request is not None else "a request"
    kind = "connect" if isinstance(error, requests.ConnectTimeout) else "read"
    return ErrorResolution(
        response_action=ResponseAction.RETRY,
        failure_type=FailureType.transient_error,
        error_message=(
            f"Iterable did not answer {what} in time ({kind} timeout); Iterable may be down "
            "or the network may drop the connection. Retry the sync later."
        ),
    )
