"""Error handler for REST requests: a skipped stream is logged as a WARNING, a timeout is named as one."""

import logging
from dataclasses import dataclass

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

logger = logging.getLogger("airbyte")


@dataclass
class SkipWarningErrorHandler(DefaultErrorHandler):
    """DefaultErrorHandler whose IGNORE resolutions (a 401/403 the key may not read) are logged as warnings, and
    whose retried timeouts say what happened.

    The manifest's response filters decide everything about responses; this class only raises the log level (the
    CDK's HttpClient logs an IGNORE at INFO, where a user never looks for the reason a stream came back empty)
    and words the timeout (the CDK's "An exception occurred when making the request" names neither).
    """

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        if isinstance(response_or_exception, requests.Timeout) and response_or_exception.request is not None:
            request = response_or_exception.request
            kind = "connect" if isinstance(response_or_exception, requests.ConnectTimeout) else "read"
            return ErrorResolution(
                response_action=ResponseAction.RETRY,
                failure_type=FailureType.transient_error,
                error_message=(
                    f"Iterable did not answer {request.method} {request.url} in time ({kind} timeout); Iterable may "
                    "be down or the network may drop the connection. Retry the sync later."
                ),
            )
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.IGNORE and resolution.error_message:
            logger.warning(resolution.error_message)
        return resolution
