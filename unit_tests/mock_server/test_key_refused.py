"""Issue 12 §5: a key refused (401) on every endpoint fails the sync as a config error naming the key; a 401 on
some endpoints while the key reads channels (which every key of a project can) still skips just those streams.

Before skipping on a 401, a stream's error handler asks GET channels once (manifest `definitions.key_probe`)."""

from airbyte_cdk.models import AirbyteStreamStatus
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of, warnings_of
from unit_tests.mock_server.request_builder import a_paged_request, a_request
from unit_tests.mock_server.response_builder import a_list, bad_api_key, records_response

REFUSED_KEY = (
    "Iterable rejects the API key (config field api_key) on every endpoint, even "
    "https://api.iterable.com/api/channels, which any key of the project can read (BadApiKey: Invalid API key). "
    "The key is wrong, was revoked or rotated, or belongs to a project in the other data center: this connection "
    "uses the US data center."
)


def test_given_401_on_the_stream_and_on_channels_when_read_then_config_error_naming_the_key(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_paged_request("campaigns", sort="id").build(), bad_api_key())
    http_mocker.get(a_request("channels").build(), bad_api_key())

    output = read_stream("campaigns", a_config().build(), expect_failure=True)

    error = output.errors[0].trace.error
    assert (error.failure_type.value, error.message) == ("config_error", REFUSED_KEY)
    assert records_of(output) == []
    assert AirbyteStreamStatus.COMPLETE not in output.get_stream_statuses("campaigns")


def test_given_401_on_every_list_while_channels_works_when_read_then_skipped_and_channels_asked_once(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(a_request("lists").build(), records_response("lists", [a_list(1), a_list(2), a_list(3)]))
    for list_id in (1, 2, 3):
        http_mocker.get(a_request("lists/getUsers").with_param("listId", list_id).build(), bad_api_key())
    channels = a_request("channels").build()
    http_mocker.get(channels, records_response("channels", []))

    output = read_stream("list_users", a_config().build(), with_rate_budget=False)

    assert (records_of(output), output.errors) == ([], [])
    assert len([w for w in warnings_of(output) if w.startswith("Skipping stream list_users:")]) == 3
    http_mocker.assert_number_of_calls(channels, 1)
