"""TimestampNormalizer: Iterable's export timestamps become RFC 3339 UTC strings; other strings stay."""

from typing import Any

import pytest

from source_iterable.components.timestamps import TimestampFields, TimestampNormalizer, instant_to_rfc3339, to_rfc3339


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param("2026-01-14 06:20:22 +00:00", "2026-01-14T06:20:22Z", id="iterable-form"),
        pytest.param("2021-03-10 14:07:34.134105.000Z", "2021-03-10T14:07:34.134105Z", id="malformed-double-fraction"),
        pytest.param("2021-03-10 14:07:34.500 +00:00", "2021-03-10T14:07:34.5Z", id="fraction-trailing-zeros-dropped"),
        pytest.param("2021-03-10 14:07:34.000 +00:00", "2021-03-10T14:07:34Z", id="zero-fraction-dropped"),
        pytest.param("2021-03-10 14:07:34 +05:30", "2021-03-10T08:37:34Z", id="positive-offset-to-utc"),
        pytest.param("2021-03-10 23:07:34 -0200", "2021-03-11T01:07:34Z", id="negative-offset-no-colon"),
        pytest.param("2021-03-10 14:07:34", "2021-03-10T14:07:34Z", id="no-zone-is-utc"),
        pytest.param("2021-03-10T14:07:34Z", "2021-03-10T14:07:34Z", id="already-rfc3339"),
        pytest.param("2021-03-10 14:07:34 UTC", "2021-03-10T14:07:34Z", id="utc-word"),
        pytest.param("2021-03-10", "2021-03-10", id="date-only-unchanged"),
        pytest.param("2021-13-45 14:07:34 +00:00", "2021-13-45T14:07:34Z", id="fast-path-slices-without-validating"),
        pytest.param("2021-13-45 14:07:34 +01:00", "2021-13-45 14:07:34 +01:00", id="invalid-date-unchanged"),
        pytest.param("2021-03-10 14:07:34 and more", "2021-03-10 14:07:34 and more", id="longer-text-unchanged"),
        pytest.param("hello, this is plain text", "hello, this is plain text", id="text-unchanged"),
        pytest.param("2021-03-10 14:07:34.250 -05:00", "2021-03-10T19:07:34.25Z", id="fraction-and-offset"),
        pytest.param("2021-03-10 14:07:34.1234567Z", "2021-03-10T14:07:34.123456Z", id="fraction-cut-to-micros"),
        pytest.param("2021-03-10 14:07:34.000001 +00:00", "2021-03-10T14:07:34.000001Z", id="one-microsecond"),
        pytest.param("2021-03-10 14:07:34.5.000Z", "2021-03-10T14:07:34.5Z", id="malformed-short-fraction"),
        pytest.param("2021-03-10 14:07:34 -00:00", "2021-03-10T14:07:34Z", id="negative-zero-offset"),
        pytest.param("2021-03-10 23:30:00 -01:00", "2021-03-11T00:30:00Z", id="offset-crosses-midnight"),
        pytest.param("2024-02-29 14:07:34.134105.000Z", "2024-02-29T14:07:34.134105Z", id="leap-day"),
        pytest.param("2023-02-29 14:07:34.134105.000Z", "2023-02-29 14:07:34.134105.000Z", id="no-leap-day-unchanged"),
        pytest.param("2021-03-10 24:00:00 +01:00", "2021-03-10 24:00:00 +01:00", id="hour-24-unchanged"),
        pytest.param("2021-03-10 14:07:34.\u0661 UTC", "2021-03-10 14:07:34.\u0661 UTC", id="non-ascii-digit"),
        pytest.param("0999-01-01 14:07:34 +05:30", "0999-01-01T08:37:34Z", id="year-below-1000-keeps-four-digits"),
        pytest.param("0001-01-01 00:30:00 +01:00", "0001-01-01 00:30:00 +01:00", id="before-year-1-unchanged"),
        pytest.param("9999-12-31 23:30:00 -01:00", "9999-12-31 23:30:00 -01:00", id="after-year-9999-unchanged"),
    ],
)
def test_to_rfc3339(value: str, expected: str) -> None:
    assert to_rfc3339(value) == expected


def test_given_nested_timestamps_when_transformed_then_every_depth_is_normalised_in_place() -> None:
    record: dict[str, Any] = {
        "createdAt": "2026-01-14 06:20:22 +00:00",
        "itblInternal": {"documentUpdatedAt": "2026-01-14 06:20:23 +00:00"},
        "items": [{"at": "2026-01-14 06:20:24 +00:00"}, "2026-01-14 06:20:25 +00:00", ["2026-01-14 06:20:26 +00:00"]],
        "campaignId": 12,
        "name": "Spring sale",
        "flag": None,
    }
    TimestampNormalizer(parameters={}).transform(record)
    assert record == {
        "createdAt": "2026-01-14T06:20:22Z",
        "itblInternal": {"documentUpdatedAt": "2026-01-14T06:20:23Z"},
        "items": [{"at": "2026-01-14T06:20:24Z"}, "2026-01-14T06:20:25Z", ["2026-01-14T06:20:26Z"]],
        "campaignId": 12,
        "name": "Spring sale",
        "flag": None,
    }


def test_given_tricky_timestamps_nested_in_itbl_internal_and_lists_then_each_is_normalised() -> None:
    record: dict[str, Any] = {
        "createdAt": "2025-03-04 05:06:07.134105.000Z",
        "itblInternal": {
            "documentCreatedAt": "2025-03-04 05:06:07.134105.000Z",
            "documentUpdatedAt": "2025-03-04 00:06:09.250 -05:00",
            "nested": {"at": ["2025-03-04 05:06:10 +0100", "2025-03-04 05:06:11.000 +00:00"]},
        },
        "transactionalData": '{"orderDate": "2025-03-04 05:06:07 +00:00"}',
    }
    TimestampNormalizer(parameters={}).transform(record)
    assert record == {
        "createdAt": "2025-03-04T05:06:07.134105Z",
        "itblInternal": {
            "documentCreatedAt": "2025-03-04T05:06:07.134105Z",
            "documentUpdatedAt": "2025-03-04T05:06:09.25Z",
            "nested": {"at": ["2025-03-04T04:06:10Z", "2025-03-04T05:06:11Z"]},
        },
        "transactionalData": '{"orderDate": "2025-03-04 05:06:07 +00:00"}',
    }


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param(1735689600000, "2025-01-01T00:00:00Z", id="epoch-ms-whole-second"),
        pytest.param(1735689600123, "2025-01-01T00:00:00.123Z", id="epoch-ms-with-milliseconds"),
        pytest.param(1735689600120.0, "2025-01-01T00:00:00.12Z", id="epoch-ms-float"),
        pytest.param("1735689600000", "2025-01-01T00:00:00Z", id="epoch-ms-as-digits"),
        pytest.param("2025-03-04T05:06:07.123Z", "2025-03-04T05:06:07.123Z", id="iso-with-z"),
        pytest.param("2025-03-04T05:06:07+02:00", "2025-03-04T03:06:07Z", id="iso-with-offset"),
        pytest.param("2025-03-04 05:06:07 +00:00", "2025-03-04T05:06:07Z", id="export-form"),
        pytest.param(10**20, 10**20, id="epoch-ms-beyond-year-9999-unchanged"),
        pytest.param(float("inf"), float("inf"), id="infinite-number-unchanged"),
        pytest.param(True, True, id="boolean-unchanged"),
        pytest.param("soon", "soon", id="text-unchanged"),
    ],
)
def test_instant_to_rfc3339(value: Any, expected: Any) -> None:
    assert instant_to_rfc3339(value) == expected


def test_given_timestamp_fields_when_transformed_then_only_those_paths_are_rewritten() -> None:
    record: dict[str, Any] = {
        "id": 1735689600000,
        "createdAt": 1735689600000,
        "updatedAt": None,
        "draft": {"updatedAt": "2025-03-04T05:06:07+02:00", "id": 5},
        "value": {"createdAt": 1735689600000},
    }
    TimestampFields(
        parameters={}, timestamp_fields=["createdAt", "updatedAt", "draft.updatedAt", "startAt", "x.y"]
    ).transform(record)
    assert record == {
        "id": 1735689600000,
        "createdAt": "2025-01-01T00:00:00Z",
        "updatedAt": None,
        "draft": {"updatedAt": "2025-03-04T03:06:07Z", "id": 5},
        "value": {"createdAt": 1735689600000},
    }
