"""forgotten_users end to end: the console script against the emulator of each project type asks exactly the forget
lists of that type, once each (the other list answers an error), and emits one row per forgotten identifier whose
hash a warehouse recomputes with the rule docs/iterable.md gives (SHA-256 hex of the lowercased, trimmed value)."""

import hashlib
from pathlib import Path

import pytest

from integration_tests.emulator import Dataset, Emulator
from integration_tests.test_rest_end_to_end import full_refresh_catalog, run


def warehouse_hash(identifier: str) -> str:
    """docs/iterable.md's Python form of Iterable's rule, applied to a value as the customer's data spells it."""
    return hashlib.sha256(identifier.strip().lower().encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    "project_type, paths",
    [
        pytest.param("email", ["/api/users/forgotten"], id="email"),
        pytest.param("userId", ["/api/users/forgottenUserIds"], id="userId"),
        pytest.param("hybrid", ["/api/users/forgotten", "/api/users/forgottenUserIds"], id="hybrid"),
    ],
)
def test_given_a_project_type_when_forgotten_users_is_read_then_only_its_lists_are_asked_and_each_hash_matches(
    tmp_path: Path, project_type: str, paths: list[str]
) -> None:
    with Emulator(Dataset(seed=7, project_type=project_type)) as emulator:
        config = {
            "api_key": emulator.api_key,
            "start_date": "2025-01-01",
            "api_base_url": emulator.url,
            "project_type": project_type,
        }
        messages = run(tmp_path, "read", config=config, catalog=full_refresh_catalog(["forgotten_users"]))
        requests = sorted((request.path, request.status) for request in emulator.requests)
        dataset = emulator.dataset

    assert requests == [(path, 200) for path in paths]
    rows = sorted(
        (m["record"]["data"]["hashedField"], m["record"]["data"]["hash"]) for m in messages if m["type"] == "RECORD"
    )
    assert rows == sorted(
        [("email", warehouse_hash(email)) for email in dataset.forgotten_emails]
        + [("userId", warehouse_hash(user_id)) for user_id in dataset.forgotten_user_ids]
    )
    assert len(rows) == dataset.object_counts()["forgotten_users"]
