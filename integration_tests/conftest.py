"""Fixtures shared by the integration tests: a fresh local Iterable emulator per test, and a config for it."""

from collections.abc import Iterator
from typing import Any

import pytest

from integration_tests import acceptance
from integration_tests.emulator import Dataset, Emulator

# The CDK's standard connector tests (integration_tests/standard_suite.py, collected in test_acceptance_fixtures.py): parametrizes their `scenario` argument from
# acceptance-test-config.yml.
pytest_plugins = ["airbyte_cdk.test.standard_tests.pytest_hooks"]


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A running emulator with the default small data set (seed 7) and rate limits disabled."""
    with Emulator(Dataset(seed=7), rate_limits={}) as emu:
        yield emu


@pytest.fixture
def emulator_config(emulator: Emulator) -> dict[str, Any]:
    """A connector config covering the emulator's whole data set (2025) in one export window per stream."""
    return {
        "api_key": emulator.api_key,
        "start_date": "2025-01-01T00:00:00Z",
        "end_date": "2026-01-01T00:00:00Z",
        "api_base_url": emulator.url,
        "window_days": 365,
        "export_requests_per_minute": 1000,
    }


@pytest.fixture(scope="session")
def acceptance_emulator() -> Iterator[Emulator]:
    """The emulator the acceptance fixtures name (sample_config.json's fixed URL), one for the whole session."""
    with acceptance.acceptance_emulator() as emu:
        yield emu
