"""forgotten_users: the GDPR forget list, asked of the endpoints that fit the config's project_type and no other.

users/forgotten answers email-based and hybrid projects, users/forgottenUserIds userId-based and hybrid ones; each
answers an error in the other project type. HttpMocker fails a test on a request it has no mock for and on a mock
that was never asked, so each test's mocks are the exact requests of the read.
"""

import pytest
from airbyte_cdk.models import AirbyteStreamStatus
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of
from unit_tests.mock_server.request_builder import a_request
from unit_tests.mock_server.response_builder import error_response, json_response

# SHA-256 of `former.customer1@example.com`, `former.customer2@example.com` and `former-user-00001`
# (`printf %s former.customer1@example.com | sha256sum`).
EMAIL_1 = "3579e20d2d6e98c2e97f480d902422e21ad179babb88f61d4b7052c798850f79"
EMAIL_2 = "ea2ea43ba73eaae54257cf3f30d14ebd51b5b1941f6f4a267b8b844e56f20fda"
USER_ID_1 = "8075755ee94898dc5d1b384fd57675827dc8e85bfb1a44ebf54a3bd2376a656e"


def test_given_an_email_project_when_read_then_only_users_forgotten_is_asked_and_each_hash_is_an_email_row(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("users/forgotten").build(), json_response({"hashedEmails": [EMAIL_1, EMAIL_2]}))

    output = read_stream("forgotten_users", a_config().with_project_type("email").build())

    assert records_of(output) == [
        {"hash": EMAIL_1, "hashedField": "email"},
        {"hash": EMAIL_2, "hashedField": "email"},
    ]


def test_given_no_project_type_when_read_then_the_project_is_email_based(http_mocker: HttpMocker) -> None:
    http_mocker.get(a_request("users/forgotten").build(), json_response({"hashedEmails": [EMAIL_1]}))

    output = read_stream("forgotten_users", a_config().build())

    assert records_of(output) == [{"hash": EMAIL_1, "hashedField": "email"}]


def test_given_a_user_id_project_when_read_then_only_users_forgotten_user_ids_is_asked(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("users/forgottenUserIds").build(), json_response({"hashedUserIds": [USER_ID_1]}))

    output = read_stream("forgotten_users", a_config().with_project_type("userId").build())

    assert records_of(output) == [{"hash": USER_ID_1, "hashedField": "userId"}]


def test_given_a_hybrid_project_when_read_then_both_lists_are_asked_and_each_hash_labelled_by_its_list(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("users/forgotten").build(), json_response({"hashedEmails": [EMAIL_1]}))
    http_mocker.get(a_request("users/forgottenUserIds").build(), json_response({"hashedUserIds": [USER_ID_1]}))

    output = read_stream("forgotten_users", a_config().with_project_type("hybrid").build())

    assert sorted(records_of(output), key=lambda record: record["hashedField"]) == [
        {"hash": EMAIL_1, "hashedField": "email"},
        {"hash": USER_ID_1, "hashedField": "userId"},
    ]


def test_given_an_empty_forget_list_when_read_then_no_rows_and_the_stream_completes(http_mocker: HttpMocker) -> None:
    http_mocker.get(a_request("users/forgotten").build(), json_response({"hashedEmails": []}))

    output = read_stream("forgotten_users", a_config().build())

    assert (records_of(output), output.errors) == ([], [])
    assert output.get_stream_statuses("forgotten_users")[-1] == AirbyteStreamStatus.COMPLETE


@pytest.mark.parametrize(
    "project_type, path",
    [
        pytest.param("email", "users/forgotten", id="email-config-on-a-userId-project"),
        pytest.param("userId", "users/forgottenUserIds", id="userId-config-on-an-email-project"),
    ],
)
def test_given_a_project_type_that_does_not_fit_the_project_when_read_then_a_config_error_says_to_fix_it(
    http_mocker: HttpMocker, project_type: str, path: str
) -> None:
    http_mocker.get(
        a_request(path).build(), error_response(400, "BadParams", "This endpoint only works for other projects")
    )

    output = read_stream("forgotten_users", a_config().with_project_type(project_type).build(), expect_failure=True)

    error = output.errors[0].trace.error
    assert error.failure_type.value == "config_error"
    assert error.message == (
        f"Iterable refused https://api.iterable.com/api/{path} (BadParams: This endpoint only works for other "
        "projects). users/forgotten answers only in email-based and hybrid projects, users/forgottenUserIds only in "
        f"userId-based and hybrid projects: set project_type (now '{project_type}') to how this project identifies "
        "users."
    )
