"""Fixtures shared by the integration tests: a fresh local Iterable emulator per test, and a config for it."""

from collections.abc import Iterator
from typing import Any

import pytest

from integration_tests.emulator import Dataset, Emulator


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
