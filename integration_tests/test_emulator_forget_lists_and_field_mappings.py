"""The emulator's forget lists (users/forgotten, users/forgottenUserIds) and catalog field mappings, as Iterable's
API definition gives them (GetForgottenUserEmailsResponse, GetForgottenUserIdsResponse, CatalogFieldMappingsResponse).
"""

import pytest
import requests

from integration_tests.emulator import Dataset, Emulator
from integration_tests.emulator.dataset import forget_hash


def get(emu: Emulator, path: str) -> requests.Response:
    return requests.get(f"{emu.url}{path}", headers={"Api-Key": emu.api_key}, timeout=10)


def test_a_forgotten_identifier_is_hashed_lowercased_and_trimmed_with_sha256_hex() -> None:
    # printf %s former.customer2@example.com | sha256sum
    assert forget_hash("  Former.Customer2@Example.COM ") == (
        "ea2ea43ba73eaae54257cf3f30d14ebd51b5b1941f6f4a267b8b844e56f20fda"
    )
    # printf %s former-user-00001 | sha256sum: userIds are lowercased too
    assert forget_hash("Former-User-00001") == "8075755ee94898dc5d1b384fd57675827dc8e85bfb1a44ebf54a3bd2376a656e"


@pytest.mark.parametrize(
    "project_type, emails, user_ids",
    [("email", 3, 0), ("userId", 0, 2), ("hybrid", 3, 2)],
)
def test_each_project_type_forgets_by_its_identifiers(project_type: str, emails: int, user_ids: int) -> None:
    dataset = Dataset(seed=7, project_type=project_type)
    assert (len(dataset.forgotten_emails), len(dataset.forgotten_user_ids)) == (emails, user_ids)
    assert dataset.object_counts()["forgotten_users"] == emails + user_ids


@pytest.mark.parametrize(
    "project_type, path, key, attribute",
    [
        ("email", "/api/users/forgotten", "hashedEmails", "forgotten_emails"),
        ("hybrid", "/api/users/forgotten", "hashedEmails", "forgotten_emails"),
        ("userId", "/api/users/forgottenUserIds", "hashedUserIds", "forgotten_user_ids"),
        ("hybrid", "/api/users/forgottenUserIds", "hashedUserIds", "forgotten_user_ids"),
    ],
)
def test_a_forget_list_answers_the_hashes_of_the_project_types_forgotten_identifiers(
    project_type: str, path: str, key: str, attribute: str
) -> None:
    with Emulator(Dataset(seed=7, project_type=project_type), rate_limits={}) as emu:
        response = get(emu, path)
    assert response.status_code == 200
    assert response.json() == {key: [forget_hash(value) for value in getattr(emu.dataset, attribute)]}


@pytest.mark.parametrize(
    "project_type, path",
    [("userId", "/api/users/forgotten"), ("email", "/api/users/forgottenUserIds")],
)
def test_the_forget_list_of_the_other_project_type_is_a_400(project_type: str, path: str) -> None:
    with Emulator(Dataset(seed=7, project_type=project_type), rate_limits={}) as emu:
        response = get(emu, path)
    assert (response.status_code, response.json()["code"]) == (400, "BadParams")


def test_field_mappings_are_bare_by_default_with_the_fields_items_carry_without_a_type_undefined(
    emulator: Emulator,
) -> None:
    response = get(emulator, "/api/catalogs/products/fieldMappings")
    assert response.json() == {
        "definedMappings": {"name": "string", "price": "double"},
        "undefinedFields": ["inStock"],
    }
    assert emulator.dataset.object_counts()["catalog_field_mappings"] == 5


def test_field_mappings_can_be_wrapped() -> None:
    with Emulator(Dataset(seed=7), rate_limits={}, wrapped_catalog_responses=["catalog_field_mappings"]) as emu:
        body = get(emu, "/api/catalogs/stores/fieldMappings").json()
    assert body == {
        "msg": "",
        "code": "Success",
        "params": {"definedMappings": {"city": "string", "location": "geo_location"}, "undefinedFields": []},
    }


def test_field_mappings_of_an_unknown_catalog_are_a_404(emulator: Emulator) -> None:
    response = get(emulator, "/api/catalogs/hats/fieldMappings")
    assert (response.status_code, response.json()["code"]) == (404, "NotFound")
