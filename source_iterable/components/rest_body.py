"""Strict reading of Iterable's REST JSON bodies: a 2xx page that is not the expected JSON fails its stream."""

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dpath
import orjson
import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.types import Config
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.request_policy import excerpt as body_excerpt

# REST error texts quote a little less of a body than the export paths (request_policy.excerpt's default).
EXCERPT_CHARS = 100
MISSING = object()


def json_body(response: requests.Response, expected: str) -> Any:
    """The parsed body of a 2xx response, or None for any other status (its error handler already decided).

    An empty body or one that is not JSON (HTML from a proxy, a body cut short) raises `unexpected_body`.
    """
    if not 200 <= response.status_code < 300:
        return None
    content = response.content
    if not content.strip():
        raise unexpected_body(response, "an empty body", expected)
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        content_type = response.headers.get("Content-Type", "no Content-Type")
        raise unexpected_body(
            response, f"a body that is not valid JSON ({content_type}): {excerpt(content)}", expected
        ) from None


def unexpected_body(response: requests.Response, what: str, expected: str) -> AirbyteTracedException:
    message = (
        f"Iterable answered {where(response)} with HTTP {response.status_code} and {what}, instead of {expected}. "
        "The stream stops here, so that its state does not move past records it did not read; retry the sync later."
    )
    return AirbyteTracedException(message=message, internal_message=message, failure_type=FailureType.system_error)


def where(response: requests.Response) -> str:
    """`GET /api/campaigns page 2`: the request's path and page (Iterable's `page`, else the first page), or
    `GET /api/templates/email/get templateId 400001` for a request of one template."""
    parts = urlsplit(response.request.url or "")
    query = parse_qs(parts.query)
    if "templateId" in query:
        return f"{response.request.method} {parts.path} templateId {query['templateId'][0]}"
    page = query["page"][0] if "page" in query else "1"
    return f"{response.request.method} {parts.path} page {page}"


def excerpt(content: bytes) -> str:
    """`request_policy.excerpt` of a body (the start, whitespace collapsed, escaped, secrets masked), quoted."""
    return repr(body_excerpt(content, size=EXCERPT_CHARS))


def find_path(body: Any, path: list[str]) -> Any:
    """The value at `path` (non-empty) in a JSON object, or MISSING. A `**` part matches any depth, so
    `["**", "catalogNames"]` finds a key in a bare body and in Iterable's `{msg, code, params: {…}}` wrapping alike."""
    if not isinstance(body, dict):
        return MISSING
    if "**" in path:
        values = dpath.values(body, path)
        return values[0] if values else MISSING
    return dpath.get(body, path, default=MISSING)


def is_list_of_strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def is_error_envelope(body: Any) -> bool:
    """Iterable's `{msg, code, params}` error (a `code` other than Success)."""
    return isinstance(body, Mapping) and "msg" in body and "code" in body and body.get("code") != "Success"


def error_envelope(body: Mapping[str, Any]) -> str:
    return f"Iterable's error {filter_secrets(str(body.get('code')))}: {excerpt(str(body.get('msg')).encode())}"


@dataclass
class StrictRecordsExtractor(RecordExtractor):
    """DpathExtractor's records (a list at `field_path`, or the object there), refusing a 2xx body without them.

    Not DpathExtractor: its JsonDecoder turns a body that is not JSON into `{}` and a missing path into no
    records, so an HTML page, an empty or truncated body or an Iterable error envelope on page 2 ended the stream
    "successfully" and moved its state past page 2's records (issue 12). Here the body must be JSON and the path
    must exist (an empty list is fine); `field_path: []` takes the body itself, which must be an object or list
    and not an error envelope. Non-2xx responses (skipped by the error handler) yield nothing.
    """

    field_path: list[str]
    config: Config
    parameters: InitVar[Mapping[str, Any]]

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._path = [InterpolatedString.create(part, parameters=parameters or {}) for part in self.field_path]

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        path = [str(part.eval(self.config)) for part in self._path]
        expected = f"JSON with '{path[-1]}'" if path else "a JSON object"
        body = json_body(response, expected)
        if body is None:
            return
        found = self._find(body, path)
        if found is MISSING or found is None:
            if is_error_envelope(body):
                what = error_envelope(body)
            else:
                what = f"{'JSON without it' if path else 'other JSON'}: {excerpt(response.content)}"
            raise unexpected_body(response, what, expected)
        if isinstance(found, list):
            yield from found
        elif found:
            yield found

    @staticmethod
    def _find(body: Any, path: list[str]) -> Any:
        if not path:
            return (
                body
                if isinstance(body, list) or (isinstance(body, Mapping) and not is_error_envelope(body))
                else MISSING
            )
        return find_path(body, path)
