"""Template content parts: the read tally behind the stream's one summary line, and the body check."""

import json
from typing import Any

import pytest
import requests
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.components.template_content import ReadTally, TemplateContentExtractor

URL = "https://api.iterable.com/api/templates/push/get?templateId=42"


def a_response(body: bytes, status: int = 200, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response._content = body
    response.status_code = status
    response.headers["Content-Type"] = content_type
    response.url = URL
    response.request = requests.Request("GET", URL).prepare()
    return response


def completions(steps: list[str]) -> list[tuple[int, int]]:
    """Run the steps ("out" hands a template out, "read"/"empty" reads one with/without a record, "done" ends the
    listing) and return every on_complete call."""
    tally = ReadTally()
    calls: list[tuple[int, int]] = []
    tally.on_complete = lambda read, empty: calls.append((read, empty))
    for step in steps:
        {
            "out": tally.handed_out,
            "read": lambda: tally.read(empty=False),
            "empty": lambda: tally.read(empty=True),
            "done": tally.listing_done,
        }[step]()
    return calls


@pytest.mark.parametrize(
    "steps, expected",
    [
        pytest.param(["out", "out", "read", "done", "empty"], [(2, 1)], id="last-read-after-listing"),
        pytest.param(["out", "out", "read", "empty", "done"], [(2, 1)], id="listing-ends-after-last-read"),
        pytest.param(["done"], [(0, 0)], id="nothing-changed"),
        pytest.param(["out", "read", "out"], [], id="listing-not-done"),
        pytest.param(["out", "out", "done", "read"], [], id="one-still-being-read"),
    ],
)
def test_the_summary_comes_once_when_the_listing_is_done_and_every_template_handed_out_is_read(
    steps: list[str], expected: list[tuple[int, int]]
) -> None:
    assert completions(steps) == expected


def test_a_template_body_is_the_one_record() -> None:
    body = {"templateId": 42, "title": "Back in stock", "buttons": []}

    records = list(TemplateContentExtractor(parameters={}).extract_records(a_response(json.dumps(body).encode())))

    assert records == [body]


@pytest.mark.parametrize(
    "body, what",
    [
        pytest.param(b"[]", "other JSON: '[]'", id="list"),
        pytest.param(b'{"name": "no id"}', 'other JSON: \'{"name": "no id"}\'', id="no-template-id"),
        pytest.param(
            b'{"msg": "Boom", "code": "GenericError"}', "Iterable's error GenericError: 'Boom'", id="envelope"
        ),
    ],
)
def test_a_body_that_is_not_a_template_fails_naming_the_template(body: bytes, what: str) -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        list(TemplateContentExtractor(parameters={}).extract_records(a_response(body)))

    assert raised.value.message == (
        f"Iterable answered GET /api/templates/push/get templateId 42 with HTTP 200 and {what}, instead of a JSON "
        "object with templateId (the template's content). The stream stops here, so that its state does not move "
        "past records it did not read; retry the sync later."
    )


def test_an_answer_the_error_handler_let_through_without_a_body_yields_nothing() -> None:
    answer: Any = a_response(b'{"msg": "not found", "code": "NotFound"}', status=404)

    assert list(TemplateContentExtractor(parameters={}).extract_records(answer)) == []
