"""The `Api-Key` header, on requests that never follow a redirect."""

from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.auth.declarative_authenticator import DeclarativeAuthenticator
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


@dataclass
class NoRedirectApiKeyAuthenticator(DeclarativeAuthenticator):
    """Put the key in the `header` of every request, and refuse any 3xx answer to such a request.

    Not ApiKeyAuthenticator: requests follows a redirect to any host with every header it was given except
    `Authorization`, so a 302 to another host would receive the key (issue 12). Every request that carries the
    key goes through this object (the CDK makes it the session's `auth`), so it is the one place that sees all of
    them — check probes, REST streams, exports, schema requests — and it registers a response hook that raises
    before requests resolves the redirect. A request without the key (none today) is free to follow redirects.
    """

    api_token: str
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    header: str = "Api-Key"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._token = InterpolatedString.create(self.api_token, parameters=parameters or {})

    @property
    def auth_header(self) -> str:
        return self.header

    @property
    def token(self) -> str:
        return str(self._token.eval(self.config))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        hooks = request.hooks.setdefault("response", [])
        if refuse_redirect not in hooks:
            hooks.append(refuse_redirect)
        request.headers.update(self.get_auth_header())
        return request


def refuse_redirect(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """requests' response hook: a 3xx ends the request with an error naming the status and the target host."""
    if not 300 <= response.status_code < 400:
        return response
    response.close()
    location = response.headers.get("Location")
    target = f"to host {urlsplit(location).hostname or '(none)'}" if location else "without a Location"
    request = response.request
    message = (
        f"Iterable answered {request.method} {urlsplit(request.url or '').path} with a redirect "
        f"(HTTP {response.status_code}) {target}. The connector does not follow redirects, so that the API key "
        "is never sent to another host; if the API's address changed, set api_base_url (or region) to it."
    )
    raise AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.system_error)
