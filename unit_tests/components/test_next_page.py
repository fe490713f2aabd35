"""NextPageCursor: the next page is the `page` of nextPageUrl (or the marker itself), never a repeated one."""

import json
from typing import Any

import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.components.next_page import NextPageCursor

PAGE_LINK = "{{ response.get('nextPageUrl') }}"


def a_response(body: Any, url: str = "https://api.iterable.com/api/campaigns?page=1&pageSize=2") -> requests.Response:
    response = requests.Response()
    response._content = json.dumps(body).encode()
    response.status_code = 200
    response.url = url
    response.request = requests.Request("GET", url).prepare()
    return response


def page_cursor() -> NextPageCursor:
    return NextPageCursor(
        next_link=PAGE_LINK,
        config={},
        parameters={"name": "campaigns"},
        link_parameter="page",
        first_token=1,
    )


@pytest.mark.parametrize(
    "body, previous, expected",
    [
        pytest.param(
            {"nextPageUrl": "https://api.iterable.com/api/campaigns?page=2&pageSize=2"},
            1,
            2,
            id="next-page",
        ),
        pytest.param(
            {"nextPageUrl": "https://api.iterable.com/api/campaigns?sort=id&page=9"},
            8,
            9,
            id="other-params",
        ),
        pytest.param({"campaigns": []}, 3, None, id="no-link-last-page"),
        pytest.param({"nextPageUrl": ""}, 3, None, id="empty-link"),
    ],
)
def test_page_number_comes_from_next_page_url(body: Any, previous: int, expected: int | None) -> None:
    assert page_cursor().next_page_token(a_response(body), 2, None, previous) == expected


def test_first_page_is_one() -> None:
    assert page_cursor().initial_token == 1


@pytest.mark.parametrize("next_page", [pytest.param(3, id="same"), pytest.param(2, id="backwards")])
def test_given_link_to_a_page_already_read_when_paging_then_fails(
    next_page: int,
) -> None:
    body = {"nextPageUrl": f"https://api.iterable.com/api/campaigns?page={next_page}"}

    with pytest.raises(AirbyteTracedException) as failure:
        page_cursor().next_page_token(a_response(body), 2, None, 3)

    assert failure.value.message == (
        f"Stream campaigns: Iterable answered GET /api/campaigns with next page {next_page} after page 3; "
        "stopping instead of reading pages in a loop."
    )


def test_given_link_without_page_when_paging_then_fails_naming_the_parameter() -> None:
    with pytest.raises(AirbyteTracedException) as failure:
        page_cursor().next_page_token(
            a_response({"nextPageUrl": "https://api.iterable.com/api/campaigns?cursor=x"}),
            2,
            None,
            1,
        )

    assert (
        failure.value.message
        == "Stream campaigns: Iterable's next-page link /api/campaigns has no numeric 'page' parameter."
    )


def test_given_marker_when_paging_then_token_is_the_marker_and_a_repeat_fails() -> None:
    cursor = NextPageCursor(
        next_link="{{ response.get('nextMarker') }}",
        config={},
        parameters={"name": "metadata_keys"},
    )

    assert cursor.initial_token is None
    assert cursor.next_page_token(a_response({"nextMarker": "k5"}), 5, None, None) == "k5"
    with pytest.raises(AirbyteTracedException):
        cursor.next_page_token(a_response({"nextMarker": "k5"}), 5, None, "k5")
