"""Fixtures shared by the unit tests. Nothing here reaches a network: HTTP goes to requests-mock or 127.0.0.1."""

from collections.abc import Callable, Iterator
from unittest import mock

import pytest
from airbyte_cdk.sources.streams.http import rate_limiting
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.loopback import LoopbackServer


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


@pytest.fixture
def loopback() -> Iterator[Callable[[], LoopbackServer]]:
    """Start small HTTP servers on 127.0.0.1 (see loopback.py); every one started is stopped after the test."""
    servers: list[LoopbackServer] = []

    def start() -> LoopbackServer:
        server = LoopbackServer()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
