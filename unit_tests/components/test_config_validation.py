"""Validation strategies of spec.config_normalization_rules, with a fixed clock for "the future"."""

from datetime import UTC, datetime
from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.components.config_validation import (
    ApiBaseUrlValidation,
    DateRangeValidation,
    UtcDateValidation,
)

NOW = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
FORMS = "must be a date 2024-01-01 or a UTC date-time 2024-01-01T00:00:00Z"


def start_date_validation(allow_future: bool = False) -> UtcDateValidation:
    return UtcDateValidation(field_name="start_date", allow_future=allow_future, clock=lambda: NOW)


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01",
        "2024-01-01T00:00:00Z",
        "2024-01-01T00:00:00.123Z",
        "2026-11-23",
        "2026-11-23T12:00:00Z",
        "",
        None,
    ],
)
def test_accepted_start_dates(value: Any) -> None:
    start_date_validation().validate(value)


@pytest.mark.parametrize(
    "value, message",
    [
        pytest.param(
            "garbage",
            f"Config field 'start_date' {FORMS}; got 'garbage'.",
            id="garbage",
        ),
        pytest.param(
            "2024-13-01",
            f"Config field 'start_date' {FORMS}; got '2024-13-01'.",
            id="month-13",
        ),
        pytest.param(
            "2024-01-01 00:00:00",
            f"Config field 'start_date' {FORMS}; got '2024-01-01 00:00:00'.",
            id="space",
        ),
        pytest.param(
            "2024-01-01T00:00:00+02:00",
            f"Config field 'start_date' {FORMS}; got '2024-01-01T00:00:00+02:00'.",
            id="offset",
        ),
        pytest.param(20240101, f"Config field 'start_date' {FORMS}; got 20240101.", id="number"),
        pytest.param(
            "2026-11-23T12:00:01Z",
            "Config field 'start_date' is in the future (2026-11-23T12:00:01Z); use a date up to today (UTC).",
            id="one-second-ahead",
        ),
        pytest.param(
            "2026-11-24",
            "Config field 'start_date' is in the future (2026-11-24); use a date up to today (UTC).",
            id="tomorrow",
        ),
    ],
)
def test_refused_start_dates_are_config_errors_naming_the_field(value: Any, message: str) -> None:
    with pytest.raises(AirbyteTracedException) as refusal:
        start_date_validation().validate(value)

    assert (refusal.value.failure_type, refusal.value.message) == (
        FailureType.config_error,
        message,
    )


def test_end_date_may_be_in_the_future() -> None:
    UtcDateValidation(field_name="end_date", allow_future=True, clock=lambda: NOW).validate("2030-01-01")


@pytest.mark.parametrize(
    "date_range, message",
    [
        pytest.param(
            {"start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00Z"},
            None,
            id="after",
        ),
        pytest.param(
            {"start": "2024-01-02T00:00:00Z", "end": "2024-01-02T00:00:00Z"},
            "Config field 'end_date' (2024-01-02T00:00:00Z) must be after 'start_date' (2024-01-02T00:00:00Z).",
            id="equal",
        ),
        pytest.param(
            {"start": "2024-01-02T00:00:00Z", "end": "2024-01-01T00:00:00Z"},
            "Config field 'end_date' (2024-01-01T00:00:00Z) must be after 'start_date' (2024-01-02T00:00:00Z).",
            id="before",
        ),
        pytest.param(
            {"start": "garbageZ", "end": "2024-01-01T00:00:00Z"},
            None,
            id="malformed-left-to-date-validation",
        ),
    ],
)
def test_end_date_must_be_after_start_date(date_range: Any, message: str | None) -> None:
    if message is None:
        DateRangeValidation().validate(date_range)
        return
    with pytest.raises(AirbyteTracedException) as refusal:
        DateRangeValidation().validate(date_range)
    assert refusal.value.message == message


@pytest.mark.parametrize(
    "url",
    [
        "https://api.iterable.com",
        "http://127.0.0.1:8123",
        "http://127.9.9.9",
        "http://localhost:1",
        "http://[::1]:8123",
        None,
        "",
    ],
)
def test_accepted_api_base_urls(url: str | None) -> None:
    ApiBaseUrlValidation().validate(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://api.iterable.com",
        "http://10.0.0.1:8123",
        "http://localhost.example.com",
        "ftp://127.0.0.1",
        "127.0.0.1:8123",
        "https://",
    ],
)
def test_refused_api_base_urls(url: str) -> None:
    with pytest.raises(AirbyteTracedException) as refusal:
        ApiBaseUrlValidation().validate(url)

    assert refusal.value.message == (
        "Config field 'api_base_url' must be an https:// URL, or http:// to a loopback host "
        f"(127.0.0.1, localhost, ::1); got {url!r}."
    )
