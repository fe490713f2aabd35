"""Case-collision renaming: one rule for the users schema and the user records."""

from typing import Any
from unittest.mock import Mock

import pytest

from source_iterable.components.renaming import (
    CaseCollisionRenamer,
    case_collision_renames,
    move_field,
)


@pytest.mark.parametrize(
    "paths, expected",
    [
        pytest.param(["Industry", "industry", "email"], {"Industry": "_industry"}, id="issue-example-top-level"),
        pytest.param(
            ["offers", "offers.Intro APR", "offers.intro APR"],
            {"offers.Intro APR": "_offers.intro APR"},
            id="issue-example-dotted",
        ),
        pytest.param(
            ["INDUSTRY", "Industry", "industry"],
            {"Industry": "_industry", "INDUSTRY": "__industry"},
            id="three-way-by-uppercase-count",
        ),
        pytest.param(["aB", "Ab"], {"aB": "_Ab"}, id="tie-broken-by-code-point-order"),
        pytest.param(["email", "firstName", "offers.intro APR"], {}, id="no-collision"),
    ],
)
def test_case_collision_renames(paths: list[str], expected: dict[str, str]) -> None:
    assert case_collision_renames(paths) == expected


@pytest.mark.parametrize(
    "record, source, target, expected",
    [
        pytest.param(
            {"Industry": "Media", "industry": "retail"},
            "Industry",
            "_industry",
            {"industry": "retail", "_industry": "Media"},
            id="top-level",
        ),
        pytest.param(
            {"offers": {"Intro APR": 1.5, "intro APR": "low"}},
            "offers.Intro APR",
            "_offers.intro APR",
            {"offers": {"intro APR": "low"}, "_offers": {"intro APR": 1.5}},
            id="dotted-path-to-new-object",
        ),
        pytest.param({"email": "a@x"}, "Industry", "_industry", {"email": "a@x"}, id="absent-field-no-op"),
        pytest.param(
            {"offers": None}, "offers.Intro APR", "_offers.intro APR", {"offers": None}, id="null-parent-no-op"
        ),
        pytest.param(
            {"orders": [{"Id": 1}]}, "orders.Id", "_orders.id", {"orders": [{"Id": 1}]}, id="list-parent-left-in-place"
        ),
    ],
)
def test_move_field(record: dict[str, Any], source: str, target: str, expected: dict[str, Any]) -> None:
    move_field(record, tuple(source.split(".")), tuple(target.split(".")))
    assert record == expected


def a_renamer(fields: dict[str, str]) -> CaseCollisionRenamer:
    requester = Mock()
    requester.send_request.return_value.status_code = 200
    requester.send_request.return_value.json.return_value = {"fields": fields}
    return CaseCollisionRenamer(requester=requester, parameters={})


def test_given_project_fields_collide_when_a_profile_carries_only_the_upper_case_twin_then_it_is_still_renamed() -> (
    None
):
    renamer = a_renamer({"Industry": "string", "industry": "string", "email": "string"})
    record = {"email": "a@x", "Industry": "Media"}
    renamer.transform(record)
    assert record == {"email": "a@x", "_industry": "Media"}


def test_given_many_records_then_getfields_is_read_once() -> None:
    renamer = a_renamer({"Industry": "string", "industry": "string"})
    for _ in range(3):
        renamer.transform({"Industry": "x"})
    assert renamer.requester.send_request.call_count == 1  # type: ignore[attr-defined]


def test_given_no_collisions_then_records_are_unchanged() -> None:
    renamer = a_renamer({"email": "string", "Industry": "string"})
    record = {"email": "a@x", "Industry": "Media"}
    renamer.transform(record)
    assert record == {"email": "a@x", "Industry": "Media"}


def test_given_getfields_fails_when_records_transformed_then_kept_unrenamed_with_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    renamer = a_renamer({})
    renamer.requester.send_request.return_value.json.return_value = {"msg": "later", "code": "GenericError"}  # type: ignore[attr-defined]
    records = [{"email": "a@x", "Industry": "Media"}, {"email": "b@x", "industry": "retail"}]
    for record in records:
        renamer.transform(record)
    assert records == [{"email": "a@x", "Industry": "Media"}, {"email": "b@x", "industry": "retail"}]
    assert [r.getMessage() for r in caplog.records if r.levelname == "WARNING"] == [
        "Iterable's users/getFields failed (HTTP 200 without a `fields` object): user fields whose names differ only "
        "in case are not renamed in this sync; every field is kept under the name Iterable sends."
    ]
