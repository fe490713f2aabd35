"""The benchmark (`python -m bench`, README "Benchmark"): it runs end to end, and its checksum can tell.

Only that it runs and that its correctness check works: timings are never asserted in tests.
"""

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from bench import checksum

REPO = Path(__file__).resolve().parent.parent

SERVED = (
    b'{"createdAt":"2025-03-04 05:06:07 +00:00","email":"a@example.com","locale":null,'
    b'"transactionalData":"{\\"orderId\\":\\"o-1\\"}"}'
)
EMITTED = {
    "createdAt": "2025-03-04T05:06:07Z",
    "email": "a@example.com",
    "transactionalData": {"orderId": "o-1"},
    "_iterable_event_id": "e1",
}


@pytest.mark.parametrize(
    "text, micros",
    [
        pytest.param("2025-03-04 05:06:07 +00:00", 1741064767_000000, id="iterable"),
        pytest.param("2025-03-04 05:06:07.134105.000Z", 1741064767_134105, id="iterable-malformed-fraction"),
        pytest.param("2025-03-04T05:06:07Z", 1741064767_000000, id="rfc3339"),
        pytest.param("2025-03-04T05:06:07.1341Z", 1741064767_134100, id="rfc3339-fraction"),
        pytest.param("2025-03-04 07:06:07 +02:00", 1741064767_000000, id="offset"),
    ],
)
def test_checksum_reads_every_timestamp_form_as_its_instant(text: str, micros: int) -> None:
    assert checksum.instant_us(text) == micros


def test_a_served_line_and_the_record_made_of_it_have_the_same_checksum() -> None:
    assert checksum.of_served([SERVED]) == checksum.of_output([record_message(EMITTED)], "email_send").records


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param({**EMITTED, "email": "b@example.com"}, id="value"),
        pytest.param({**EMITTED, "createdAt": "2025-03-04T05:06:08Z"}, id="instant"),
        pytest.param({**EMITTED, "extra": 1}, id="field-added"),
    ],
)
def test_a_changed_record_changes_the_checksum(changed: dict) -> None:
    assert checksum.of_served([SERVED]) != checksum.of_output([record_message(changed)], "email_send").records


RICH_SERVED = (
    b'{"createdAt":"2025-03-04 05:06:07.134105.000Z","email":"a@example.com","locale":null,'
    b'"transactionalData":"{\\"orderDate\\":\\"2025-03-04 05:06:07 +00:00\\",\\"coupon\\":null}",'
    b'"itblInternal":{"documentCreatedAt":"2025-03-04 05:06:07.134105.000Z",'
    b'"documentUpdatedAt":"2025-03-04 00:06:09.250 -05:00"}}'
)
RICH_EMITTED = {
    "createdAt": "2025-03-04T05:06:07.134105Z",
    "email": "a@example.com",
    "transactionalData": {"orderDate": "2025-03-04 05:06:07 +00:00", "coupon": None},
    "itblInternal": {
        "documentCreatedAt": "2025-03-04T05:06:07.134105Z",
        "documentUpdatedAt": "2025-03-04T05:06:09.25Z",
    },
    "_iterable_event_id": "e1",
}


def with_updated_at(text: str) -> dict:
    return {**RICH_EMITTED, "itblInternal": {**RICH_EMITTED["itblInternal"], "documentUpdatedAt": text}}


def test_a_rich_served_line_and_the_record_made_of_it_have_the_same_checksum() -> None:
    assert checksum.of_served([RICH_SERVED]) == checksum.of_output([record_message(RICH_EMITTED)], "email_send").records


@pytest.mark.parametrize(
    "changed",
    [
        pytest.param(with_updated_at("2025-03-04 05:06:09.25Z"), id="nested-timestamp-not-rfc3339"),
        pytest.param(with_updated_at("2025-03-04T00:06:09.25Z"), id="nested-offset-not-applied"),
        pytest.param(
            {**RICH_EMITTED, "transactionalData": {"orderDate": "2025-03-04T05:06:07Z", "coupon": None}},
            id="timestamp-inside-transactional-data-rewritten",
        ),
        pytest.param(
            {**RICH_EMITTED, "transactionalData": '{"orderDate":"2025-03-04 05:06:07 +00:00","coupon":null}'},
            id="transactional-data-left-a-string",
        ),
    ],
)
def test_a_rich_record_changed_changes_the_checksum(changed: dict) -> None:
    assert checksum.of_served([RICH_SERVED]) != checksum.of_output([record_message(changed)], "email_send").records


def test_transactional_data_that_is_not_json_is_compared_as_the_string_served() -> None:
    served = b'{"createdAt":"2025-03-04 05:06:07 +00:00","transactionalData":"{not json"}'
    emitted = {"createdAt": "2025-03-04T05:06:07Z", "transactionalData": "{not json", "_iterable_event_id": "e1"}
    assert checksum.of_served([served]) == checksum.of_output([record_message(emitted)], "email_send").records


def record_message(data: dict) -> bytes:
    return orjson.dumps({"type": "RECORD", "record": {"stream": "email_send", "data": data, "emitted_at": 1}})


def test_given_a_thousand_events_when_benchmarked_then_our_records_match_what_the_emulator_served() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--records", "1000"], cwd=REPO, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "emitted: 1000 records" in result.stdout
    assert result.stdout.rstrip().endswith("| match |")


def test_given_a_thousand_rich_events_when_benchmarked_then_our_records_match_what_the_emulator_served() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--rich", "--records", "1000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "data set: rich" in result.stdout
    assert "emitted: 1000 records" in result.stdout
    assert result.stdout.rstrip().endswith("| match |")
