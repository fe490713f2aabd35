"""Pagination that follows Iterable's next-page link and refuses to loop."""

from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from airbyte_cdk.models import FailureType
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.declarative.requesters.paginators.strategies.pagination_strategy import PaginationStrategy
from airbyte_cdk.sources.types import Config, Record, StreamSlice
from airbyte_cdk.utils.traced_exception import AirbyteTracedException


@dataclass
class NextPageCursor(PaginationStrategy):
    """Next page = the link the response names (`next_link`); with `link_parameter`, that query parameter of the link.

    - `next_link: "{{ response.get('nextMarker') }}"` → the marker itself (metadata keys).
    - `next_link: "{{ response.get('nextPageUrl') }}"`, `link_parameter: page`, `first_token: 1` → page 1, then the
      `page` of each `nextPageUrl` (campaigns, templates, journeys, catalogs).

    Not CursorPagination: with RequestPath it sends the Api-Key to whatever URL the response names, repeats our
    query parameters beside the link's own, and keeps asking for a page the API returns again and again. Here the
    request stays on the configured host with the manifest's parameters, and a repeated token (or, for page
    numbers, one that does not increase) fails the stream instead of looping.
    """

    next_link: InterpolatedString | str
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    link_parameter: str | None = None
    page_size: int | None = None
    first_token: Any | None = None

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._next = InterpolatedString.create(self.next_link, parameters=parameters or {})
        self._stream = (parameters or {}).get("name", "")

    @property
    def initial_token(self) -> Any | None:
        return self.first_token

    def get_page_size(self) -> int | None:
        return self.page_size

    def next_page_token(
        self,
        response: requests.Response,
        last_page_size: int,
        last_record: Record | None,
        last_page_token_value: Any | None = None,
        page_size_override: int | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> Any | None:
        link = self._next.eval(self.config, response=_json_or_empty(response))
        if not link:
            return None
        token = self._token_of(str(link))
        if self._repeats(token, last_page_token_value):
            raise AirbyteTracedException(
                message=(
                    f"Stream {self._stream}: Iterable answered {response.request.method} "
                    f"{urlsplit(response.url).path} with next page {token!r} after page {last_page_token_value!r}; "
                    "stopping instead of reading pages in a loop."
                ),
                failure_type=FailureType.system_error,
            )
        return token

    def _repeats(self, token: Any, previous: Any | None) -> bool:
        if previous is None:
            return False
        if self.link_parameter:
            return int(token) <= int(previous)
        return bool(token == previous)

    def _token_of(self, link: str) -> Any | None:
        if not self.link_parameter:
            return link
        values = parse_qs(urlsplit(link).query).get(self.link_parameter)
        if not values or not values[0].isdigit():
            raise AirbyteTracedException(
                message=(
                    f"Stream {self._stream}: Iterable's next-page link {urlsplit(link).path} has no numeric "
                    f"'{self.link_parameter}' parameter."
                ),
                failure_type=FailureType.system_error,
            )
        return int(values[0])


def _json_or_empty(response: requests.Response) -> Any:
    try:
        return response.json()
    except requests.exceptions.JSONDecodeError:
        return {}
