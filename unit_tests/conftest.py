"""Fixtures shared by the unit tests. Nothing here reaches a network: HTTP goes to requests-mock only."""

from collections.abc import Iterator
from unittest import mock

import pytest
from airbyte_cdk.sources.streams.http import rate_limiting
from airbyte_cdk.test.mock_http import HttpMocker


@pytest.fixture
def http_mocker() -> Iterator[HttpMocker]:
    """The CDK's HttpMocker for plain pytest functions; a registered request that is never sent fails the test."""
    with HttpMocker() as mocker:
        yield mocker


@pytest.fixture
def retry_waits() -> Iterator[list[float]]:
    """Record the seconds the CDK would sleep between retries instead of sleeping them.

    The CDK waits in `rate_limiting`'s `time.sleep` for every retry of a user-defined backoff (Retry-After or
    the manifest's exponential backoff); only that module's reference to `time` is replaced.
    """
    waits: list[float] = []
    fake_time = mock.Mock(wraps=rate_limiting.time)
    fake_time.sleep = waits.append
    with mock.patch.object(rate_limiting, "time", fake_time):
        yield waits
