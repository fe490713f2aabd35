"""The exact requests the connector must send: path, query parameters and the Api-Key header."""

from typing import Any

from airbyte_cdk.test.mock_http import HttpRequest

from unit_tests.mock_server.config import API_KEY, US_BASE


class IterableRequestBuilder:
    """`GET <base>/api/<path>` with exactly the query parameters given (HttpMocker matches them exactly)."""

    def __init__(self, path: str, base: str = US_BASE) -> None:
        self._url = f"{base}/api/{path}"
        self._params: dict[str, str | list[str]] = {}

    def with_param(self, name: str, value: Any) -> "IterableRequestBuilder":
        self._params[name] = [str(v) for v in value] if isinstance(value, list) else str(value)
        return self

    def with_page(self, page: int, page_size: int) -> "IterableRequestBuilder":
        return self.with_param("page", page).with_param("pageSize", page_size)

    def with_sort(self, sort: str) -> "IterableRequestBuilder":
        return self.with_param("sort", sort)

    def build(self) -> HttpRequest:
        return HttpRequest(self._url, query_params=self._params or None, headers={"Api-Key": API_KEY})


def a_request(path: str, base: str = US_BASE) -> IterableRequestBuilder:
    return IterableRequestBuilder(path, base)


def a_paged_request(path: str, page: int = 1, page_size: int = 1000, sort: str | None = None) -> IterableRequestBuilder:
    builder = a_request(path).with_page(page, page_size)
    return builder.with_sort(sort) if sort else builder
