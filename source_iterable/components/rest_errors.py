"""Error handler for REST requests: every failure is worded with its request and likely cause; a skipped stream is
logged as a WARNING; a refused key fails the sync."""

import http.client
import logging
import socket
import ssl
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler
from airbyte_cdk.sources.declarative.requesters.error_handlers.backoff_strategy import BackoffStrategy
from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.request_policy import iterable_error

logger = logging.getLogger("airbyte")

# The CDK's HttpClient tries a request 1 + max_retries times; None means its default of 5 retries.
CDK_DEFAULT_RETRIES = 5


@dataclass(frozen=True)
class Failure:
    """A request that failed: what happened (naming the request) and its likely cause with what to do."""

    what: str
    cause: str

    def message(self) -> str:
        return f"{self.what}; {self.cause}"

    def final_message(self, attempts: int) -> str:
        return f"{self.what}, on all {attempts} attempts; {self.cause}"


@dataclass
class RestErrorHandler(DefaultErrorHandler):
    """DefaultErrorHandler whose every failure names the request and its likely cause, also after the last retry.

    - A response is worded by the manifest's response filters; one that no filter words (408, 501, a proxy's 52x
      page) is worded here (`unexpected_answer`), where the CDK names no endpoint or pastes the whole body, and
      keeps the CDK's retry decision. A request that got no response (timeout, refused,
      DNS, TLS, a connection cut mid-answer) is worded here (`failure`): the CDK says "ReadTimeout" or repeats
      urllib3's repr. requests raises a failure while reading a body without its request, so then the handler names
      its requester's endpoint (`$parameters.endpoint` on the config's `api_base`).
    - The last attempt ends with that wording and the count of attempts, raised by the first backoff strategy
      (`_LastAttempt`), which the CDK consults with the attempt number before it retries. Otherwise the CDK ends
      the request with its own text ("Exhausted available request attempts. Please see logs for more details.
      Exception: …", or "API rate limit exceeded." without the endpoint). A strategy that ends a request by raising
      is how the CDK's own `max_waiting_time_in_seconds` works. (When `max_time` runs out before the attempts, as
      with several long Retry-After waits, the CDK's text remains.)
    - An IGNORE resolution (a 401/403 the key may not read) is logged as a WARNING: the CDK's HttpClient logs it
      at INFO, where a user never looks for the reason a stream came back empty.
    - Before skipping on a 401 it sends `key_probe` (GET channels, which every key can read) once per handler: a
      401 there too means a wrong or revoked key, and the probe's config error fails the stream instead of every
      stream being skipped into an empty "successful" sync. Streams run concurrently, so a verdict from a request
      of another stream is not needed: each asks the one endpoint that always answers.
    """

    key_probe: Requester | None = None
    _probe_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _key_checked: bool = field(default=False, init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        base = str(self.config.get("api_base", "")).rstrip("/")
        endpoint = (parameters or {}).get("endpoint")
        self._endpoint = f"GET {base}/api/{endpoint}" if endpoint else f"a request to {base}"
        self.backoff_strategies = [_LastAttempt(self), *(self.backoff_strategies or [])]

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.RequestException) and response_or_exception.response is None:
            failure = self.failure(response_or_exception)
            if failure is not None:
                return ErrorResolution(
                    response_action=ResponseAction.RETRY,
                    failure_type=FailureType.transient_error,
                    error_message=failure.message(),
                )
        resolution = super().interpret_response(response_or_exception)
        if isinstance(response_or_exception, requests.Response) and self._unexpected(response_or_exception):
            return ErrorResolution(
                response_action=resolution.response_action,
                failure_type=resolution.failure_type,
                error_message=unexpected_answer(response_or_exception),
            )
        if resolution.response_action == ResponseAction.IGNORE and resolution.error_message:
            if isinstance(response_or_exception, requests.Response) and response_or_exception.status_code == 401:
                self._check_key()
            logger.warning(resolution.error_message)
        return resolution

    def failure(self, error: requests.RequestException) -> Failure | None:
        """What went wrong with a request that got no response, or None for an error that is not the network's."""
        what = request_name(error.request) if error.request is not None else self._endpoint
        return connection_failure(error, what)

    def gave_up(self, response_or_exception: requests.Response | Exception | None, attempts: int) -> Exception:
        """The error that ends a request after its last failed attempt."""
        resolution = self.interpret_response(response_or_exception)
        failure_type = resolution.failure_type or FailureType.transient_error
        text = resolution.error_message or f"{self._endpoint} failed"
        if isinstance(response_or_exception, requests.Response):
            status = response_or_exception.status_code
            cause = RESPONSE_CAUSES.get(status, SERVER_ERROR_CAUSE if status >= 500 else UNEXPECTED_CAUSE)
            counted = (
                f", on all {attempts} attempts"
                if self._unexpected(response_or_exception)
                else (f". HTTP {status} on all {attempts} attempts")
            )
            message = f"{text.rstrip('.')}{counted}; {cause}"
        elif isinstance(response_or_exception, requests.RequestException) and (
            failure := self.failure(response_or_exception)
        ):
            message = failure.final_message(attempts)
        else:
            message = f"{text}, on all {attempts} attempts."
        return AirbyteTracedException(message=message, internal_message=message, failure_type=failure_type)

    def _unexpected(self, response: requests.Response) -> bool:
        """A failed answer that none of the manifest's response filters words (a 408, 501, 520…, an odd 4xx): the
        CDK's own text names no endpoint, or pastes the whole body."""
        return not response.ok and not any(f.matches(response) for f in self.response_filters or [])

    def _check_key(self) -> None:
        """Send the key probe unless this handler already did; its config error (401 on channels) propagates."""
        if self.key_probe is None:
            return
        with self._probe_lock:
            if self._key_checked:
                return
            self._key_checked = True
            self.key_probe.send_request()

    @property
    def attempts(self) -> int:
        """How many times the CDK's HttpClient sends a request before it gives up on it."""
        return 1 + (CDK_DEFAULT_RETRIES if self.max_retries is None else int(self.max_retries))


@dataclass
class _LastAttempt(BackoffStrategy):
    """No wait of its own (the strategies after it choose); after the last attempt, raises the handler's `gave_up`."""

    handler: RestErrorHandler

    def backoff_time(
        self, response_or_exception: requests.Response | requests.RequestException | None, attempt_count: int
    ) -> float | None:
        if attempt_count >= self.handler.attempts:
            raise self.handler.gave_up(response_or_exception, attempt_count)
        return None


RETRY_LATER = "Retry the sync later."
RESPONSE_CAUSES = {
    408: "Iterable, or a proxy on the way, gave up waiting for the request. " + RETRY_LATER,
    429: "another integration may be using the project's rate limit for this endpoint. " + RETRY_LATER,
}
SERVER_ERROR_CAUSE = "Iterable may be having an outage. " + RETRY_LATER
UNEXPECTED_CAUSE = "Iterable, or a proxy on the way, answers this request in a way the connector does not expect."


def request_name(request: requests.Request | requests.PreparedRequest) -> str:
    """`GET <url>` without the query, as the manifest's messages name a request (`request_url`)."""
    parts = urlsplit(request.url or "")
    return f"{request.method} {urlunsplit((parts.scheme, parts.netloc, parts.path, '', ''))}"


def unexpected_answer(response: requests.Response) -> str:
    """An answer with a status no response filter words: the request, the status and Iterable's error, if any,
    else the kind of body (never the body: it may be a whole HTML page)."""
    detail = iterable_error(response.content) or (
        f"not Iterable's JSON error, Content-Type: {response.headers.get('Content-Type') or 'none'}"
    )
    return f"Iterable answered {request_name(response.request)} with HTTP {response.status_code} ({detail})"


def connection_failure(error: requests.RequestException, what: str) -> Failure | None:
    """What happened to `what` (a request, "GET <url>") that got no response, and why, from requests' error chain.

    The order matters: a refused or unresolved connection is also a ConnectionError, and to urllib3 a connect
    timeout (NewConnectionError subclasses ConnectTimeoutError); a TLS failure is also a ConnectionError.
    """
    causes = list(_chain(error))
    url = urlsplit(what.rsplit(" ", 1)[-1])
    host = url.netloc or what

    def any_of(*kinds: type[BaseException]) -> BaseException | None:
        return next((cause for cause in causes if isinstance(cause, kinds)), None)

    if any_of(urllib3.exceptions.NameResolutionError, socket.gaierror):
        return Failure(
            f"The host name {url.hostname or host} of {what} did not resolve (DNS lookup failed)",
            "check region and api_base_url, and that this machine's DNS resolves Iterable's hosts.",
        )
    if any_of(ConnectionRefusedError):
        return Failure(
            f"{host} refused the connection for {what} (connection refused)",
            "nothing accepts connections there: check region and api_base_url, and any proxy or firewall on the way.",
        )
    if tls := any_of(ssl.SSLError, urllib3.exceptions.SSLError, requests.exceptions.SSLError):
        return Failure(
            f"The TLS (https) connection to {host} failed for {what} ({_tls_reason(causes, tls)})",
            "a proxy that intercepts https, an outdated certificate store or a wrong system clock is the usual cause.",
        )
    if unreachable := any_of(urllib3.exceptions.NewConnectionError):
        return Failure(
            f"Could not connect to {host} for {what} ({_os_reason(causes, unreachable)})",
            f"check the network and any proxy or firewall on the way to {host}. {RETRY_LATER}",
        )
    if any_of(requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError):
        return Failure(
            f"Iterable did not accept the connection for {what} in time (connect timeout)",
            f"a firewall or proxy may block {host}, or Iterable may be down. {RETRY_LATER}",
        )
    if any_of(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError, TimeoutError):
        return Failure(
            f"Iterable did not answer {what} in time (read timeout)",
            f"Iterable may be down, or the network or a proxy may drop the connection. {RETRY_LATER}",
        )
    if any_of(requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError):
        return Failure(
            f"The connection to {host} broke during {what} ({_drop_reason(causes)})",
            f"Iterable or the network may be unstable. {RETRY_LATER}",
        )
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, then every error it wraps: requests wraps urllib3's, which wraps the socket's or ssl's."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [*current.args, getattr(current, "reason", None), current.__cause__, current.__context__]
        pending.extend(item for item in wrapped if isinstance(item, BaseException))


def _tls_reason(causes: list[BaseException], fallback: BaseException) -> str:
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
            return f"certificate not trusted: {cause.verify_message}"
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return str(cause.reason).lower().replace("_", " ")
    return type(fallback).__name__


def _os_reason(causes: list[BaseException], fallback: BaseException) -> str:
    error = next((cause for cause in causes if isinstance(cause, OSError) and cause.strerror), None)
    return error.strerror.lower() if error is not None and error.strerror else type(fallback).__name__


def _drop_reason(causes: list[BaseException]) -> str:
    kinds = (
        (http.client.RemoteDisconnected, "closed without an answer"),
        (ConnectionResetError, "connection reset"),
        (http.client.IncompleteRead, "answer cut off"),
        (urllib3.exceptions.IncompleteRead, "answer cut off"),
        (requests.exceptions.ChunkedEncodingError, "answer cut off"),
    )
    for kind, reason in kinds:
        if any(isinstance(cause, kind) for cause in causes):
            return reason
    return "connection dropped"
