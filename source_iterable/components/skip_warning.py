"""Error handler that makes a skipped stream visible: the IGNORE its filters choose is logged as a WARNING."""

import logging
from dataclasses import dataclass

import requests
from airbyte_cdk.sources.declarative.requesters.error_handlers import DefaultErrorHandler
from airbyte_cdk.sources.streams.http.error_handlers.response_models import ErrorResolution, ResponseAction

logger = logging.getLogger("airbyte")


@dataclass
class SkipWarningErrorHandler(DefaultErrorHandler):
    """DefaultErrorHandler whose IGNORE resolutions (a 401/403 the key may not read) are logged as warnings.

    The manifest's response filters decide everything; this class only raises the log level. The CDK's
    HttpClient logs an IGNORE at INFO, where a user never looks for the reason a stream came back empty.
    """

    def interpret_response(self, response_or_exception: requests.Response | Exception | None) -> ErrorResolution:
        resolution = super().interpret_response(response_or_exception)
        if resolution.response_action == ResponseAction.IGNORE and resolution.error_message:
            logger.warning(resolution.error_message)
        return resolution
