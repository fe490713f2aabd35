"""MetricRowTyping: CSV cells of campaigns/metrics become numbers where they are numbers, columns snake_case."""

from typing import Any

import pytest

from source_iterable.components.metric_row import (
    MetricRowTyping,
    snake_case,
    typed_cell,
)


@pytest.mark.parametrize(
    "cell, typed",
    [
        pytest.param("10", 10, id="int"),
        pytest.param("-3", -3, id="negative-int"),
        pytest.param("19.5", 19.5, id="float"),
        pytest.param("1e3", 1000.0, id="exponent"),
        pytest.param(" 7 ", 7, id="padded"),
        pytest.param("", None, id="empty"),
        pytest.param("N/A", "N/A", id="text"),
        pytest.param("nan", "nan", id="nan-stays-text"),
        pytest.param("Infinity", "Infinity", id="infinity-stays-text"),
    ],
)
def test_cell_typing(cell: str, typed: Any) -> None:
    assert typed_cell(cell) == typed
    assert type(typed_cell(cell)) is type(typed)


@pytest.mark.parametrize(
    "column, name",
    [
        ("id", "id"),
        ("Total Email Sends", "total_email_sends"),
        ("Unique Email Opens (filtered)", "unique_email_opens_filtered"),
        ("Purchases / M (Email)", "purchases_m_email"),
        ("Total In-App Sent", "total_in_app_sent"),
    ],
)
def test_column_snake_case(column: str, name: str) -> None:
    assert snake_case(column) == name


def test_given_csv_row_when_transformed_then_renamed_and_typed_in_place() -> None:
    record = {
        "id": "5",
        "Total Email Sends": "120",
        "Revenue": "",
        "Average Order Value": "19.5",
    }

    MetricRowTyping({}).transform(record)

    assert record == {
        "id": 5,
        "total_email_sends": 120,
        "revenue": None,
        "average_order_value": 19.5,
    }


def test_given_text_cells_when_transformed_then_null_and_their_text_kept_in_non_numeric_cells() -> None:
    record = {"id": "5", "Average Order Value": "N/A", "Revenue": "nan", "Purchases": "3"}

    MetricRowTyping({}).transform(record)

    assert record == {
        "id": 5,
        "average_order_value": None,
        "revenue": None,
        "purchases": 3,
        "_non_numeric_cells": {"average_order_value": "N/A", "revenue": "nan"},
    }


def test_given_integer_column_when_cell_is_fractional_then_null_with_text_and_whole_float_is_int() -> None:
    columns = {
        "id": {"type": "integer"},
        "purchases": {"type": ["integer", "null"]},
        "revenue": {"type": ["number", "null"]},
    }
    record = {"id": "5", "Purchases": "2.5", "Total Email Sends": "1e3", "Revenue": "4.0"}
    typing = MetricRowTyping({**columns, "total_email_sends": {"type": ["integer", "null"]}})

    typing.transform(record)

    assert record == {
        "id": 5,
        "purchases": None,
        "total_email_sends": 1000,
        "revenue": 4.0,
        "_non_numeric_cells": {"purchases": "2.5"},
    }
    assert type(record["total_email_sends"]) is int


def test_given_cells_beyond_the_header_then_kept_in_order_in_extra_cells() -> None:
    record: dict[Any, Any] = {"id": "5", "Purchases": "3", None: ["surplus", "", "7"]}

    MetricRowTyping({}).transform(record)

    assert record == {"id": 5, "purchases": 3, "_extra_cells": ["surplus", "", "7"]}


def test_given_columns_declared_text_then_their_cells_stay_text_and_empty_is_null() -> None:
    columns = {"name": {"type": ["string", "null"]}, "type": {"type": ["string", "null"]}}
    record = {"name": "2024", "type": "", "Total Email Sends": "4"}

    MetricRowTyping(columns).transform(record)

    assert record == {"name": "2024", "type": None, "total_email_sends": 4}


@pytest.mark.parametrize(
    "column, name",
    [
        ("experimentId", "experiment_id"),
        ("creationDate", "creation_date"),
        ("Experiment Id", "experiment_id"),
        ("Total SMS Sent", "total_sms_sent"),
        ("Purchases / M (Email)", "purchases_m_email"),
    ],
)
def test_column_snake_case_with_camel_case_words(column: str, name: str) -> None:
    assert snake_case(column, camel_case=True) == name
