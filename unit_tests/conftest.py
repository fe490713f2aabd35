"""Fixtures shared by the unit tests. Nothing here reaches a network: HTTP goes to requests-mock or 127.0.0.1."""

import hashlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from unittest import mock

import orjson
import pytest
from airbyte_cdk.sources.declarative import concurrent_declarative_source
from airbyte_cdk.sources.streams.http import rate_limiting
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.loopback import LoopbackServer


@pytest.fixture(scope="session", autouse=True)
def manifest_validated_once_per_content() -> Iterator[None]:
    """Validate each distinct manifest against the CDK's component schema once per session, not once per source.

    Every source these tests build validates its whole manifest (jsonschema, about half a second), and most tests
    build one with the same manifest. A manifest that passed is remembered by its content; one that fails is not,
    so it fails again wherever it is built. test_manifest.py validates the manifest explicitly.
    """
    validated: set[bytes] = set()
    validate = concurrent_declarative_source.validate_manifest

    def validate_once(manifest: Mapping[str, Any], schema: Mapping[str, Any]) -> None:
        key = hashlib.sha256(orjson.dumps([manifest, schema], option=orjson.OPT_SORT_KEYS)).digest()
        if key not in validated:
            validate(manifest, schema)
            validated.add(key)

    with mock.patch.object(concurrent_declarative_source, "validate_manifest", validate_once):
        yield


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
