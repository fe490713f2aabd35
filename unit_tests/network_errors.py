"""Errors of requests that got no response, built as requests and urllib3 chain them, without a network.

requests' error wraps urllib3's, which is raised from the socket's or ssl's error (`raise … from …`).
"""

import http.client
import socket
import ssl

import requests
import urllib3.exceptions


def raised_from(error: BaseException, cause: BaseException) -> BaseException:
    """`error` as `raise error from cause` leaves it."""
    error.__cause__ = cause
    error.__context__ = cause
    return error


def through_urllib3(reason: BaseException) -> urllib3.exceptions.MaxRetryError:
    return urllib3.exceptions.MaxRetryError(None, "/api/lists", reason)  # type: ignore[arg-type]


def refused() -> BaseException:
    cause = ConnectionRefusedError(111, "Connection refused")
    reason = raised_from(urllib3.exceptions.NewConnectionError(None, f"Failed to establish: {cause}"), cause)
    return requests.exceptions.ConnectionError(through_urllib3(reason))


def unreachable() -> BaseException:
    cause = OSError(101, "Network is unreachable")
    reason = raised_from(urllib3.exceptions.NewConnectionError(None, f"Failed to establish: {cause}"), cause)
    return requests.exceptions.ConnectionError(through_urllib3(reason))


def unresolved() -> BaseException:
    cause = socket.gaierror(-2, "Name or service not known")
    unresolved = urllib3.exceptions.NameResolutionError("api.iterable.com", None, cause)  # type: ignore[arg-type]
    reason = raised_from(unresolved, cause)
    return requests.exceptions.ConnectionError(through_urllib3(reason))


def untrusted_certificate() -> BaseException:
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cause.verify_message = "self-signed certificate in certificate chain"
    reason = raised_from(urllib3.exceptions.SSLError(cause), cause)
    return requests.exceptions.SSLError(through_urllib3(reason))


def stalled_body() -> BaseException:
    """requests' error when the answer's body stops arriving: a ConnectionError around urllib3's ReadTimeoutError."""
    timeout = urllib3.exceptions.ReadTimeoutError(None, None, "Read timed out.")  # type: ignore[arg-type]
    return requests.exceptions.ConnectionError(timeout)


def closed_without_answer() -> BaseException:
    cause = http.client.RemoteDisconnected("Remote end closed connection without response")
    return requests.exceptions.ConnectionError(
        raised_from(urllib3.exceptions.ProtocolError("Connection aborted.", cause), cause)
    )


def cut_body() -> BaseException:
    cause = http.client.IncompleteRead(b"{", 99)
    reason = raised_from(urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead", cause), cause)
    return requests.exceptions.ChunkedEncodingError(reason)
