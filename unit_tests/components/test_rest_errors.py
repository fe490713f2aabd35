"""connection_failure: what happened to a REST request that got no response, and its likely cause."""

import pytest
import requests

from source_iterable.components.rest_errors import Failure, connection_failure
from unit_tests.network_errors import (
    closed_without_answer,
    cut_body,
    refused,
    stalled_body,
    unreachable,
    unresolved,
    untrusted_certificate,
)

REQUEST = "GET https://api.iterable.com/api/lists"
RETRY_LATER = "Retry the sync later."


@pytest.mark.parametrize(
    "error, failure",
    [
        pytest.param(
            requests.exceptions.ReadTimeout("Read timed out. (read timeout=60)"),
            Failure(
                f"Iterable did not answer {REQUEST} in time (read timeout)",
                f"Iterable may be down, or the network or a proxy may drop the connection. {RETRY_LATER}",
            ),
            id="read-timeout",
        ),
        pytest.param(
            stalled_body(),
            Failure(
                f"Iterable did not answer {REQUEST} in time (read timeout)",
                f"Iterable may be down, or the network or a proxy may drop the connection. {RETRY_LATER}",
            ),
            id="body-stalled",
        ),
        pytest.param(
            requests.exceptions.ConnectTimeout("timed out"),
            Failure(
                f"Iterable did not accept the connection for {REQUEST} in time (connect timeout)",
                f"a firewall or proxy may block api.iterable.com, or Iterable may be down. {RETRY_LATER}",
            ),
            id="connect-timeout",
        ),
        pytest.param(
            refused(),
            Failure(
                f"api.iterable.com refused the connection for {REQUEST} (connection refused)",
                "nothing accepts connections there: check region and api_base_url, and any proxy or firewall on "
                "the way.",
            ),
            id="refused",
        ),
        pytest.param(
            unreachable(),
            Failure(
                f"Could not connect to api.iterable.com for {REQUEST} (network is unreachable)",
                f"check the network and any proxy or firewall on the way to api.iterable.com. {RETRY_LATER}",
            ),
            id="unreachable",
        ),
        pytest.param(
            unresolved(),
            Failure(
                f"The host name api.iterable.com of {REQUEST} did not resolve (DNS lookup failed)",
                "check region and api_base_url, and that this machine's DNS resolves Iterable's hosts.",
            ),
            id="dns",
        ),
        pytest.param(
            untrusted_certificate(),
            Failure(
                "The TLS (https) connection to api.iterable.com failed for "
                f"{REQUEST} (certificate not trusted: self-signed certificate in certificate chain)",
                "a proxy that intercepts https, an outdated certificate store or a wrong system clock is the usual "
                "cause.",
            ),
            id="tls-certificate",
        ),
        pytest.param(
            closed_without_answer(),
            Failure(
                f"The connection to api.iterable.com broke during {REQUEST} (closed without an answer)",
                f"Iterable or the network may be unstable. {RETRY_LATER}",
            ),
            id="closed",
        ),
        pytest.param(
            cut_body(),
            Failure(
                f"The connection to api.iterable.com broke during {REQUEST} (answer cut off)",
                f"Iterable or the network may be unstable. {RETRY_LATER}",
            ),
            id="cut-body",
        ),
    ],
)
def test_given_a_request_without_response_then_the_failure_names_it_and_the_likely_cause(
    error: requests.RequestException, failure: Failure
) -> None:
    assert connection_failure(error, REQUEST) == failure


def test_given_an_error_that_is_not_the_network_then_no_failure_is_worded() -> None:
    assert connection_failure(requests.exceptions.InvalidURL("bad"), REQUEST) is None


def test_final_message_counts_the_attempts() -> None:
    failure = Failure("Iterable did not answer GET x in time (read timeout)", "Iterable may be down.")

    assert failure.final_message(6) == (
        "Iterable did not answer GET x in time (read timeout), on all 6 attempts; Iterable may be down."
    )
