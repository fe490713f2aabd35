"""Zero 429s at the edge: a sync against the emulator enforcing Iterable's limits as a strict sliding window on
arrival time gets no 429, on any endpoint, while each limited endpoint is asked more often than its limit.

Time is scaled down tenfold so the test takes seconds: the emulator's minute-long windows last 6 s, and the
connector's manifest is the shipped one with its minute-long periods divided by ten but its safety margins kept
(latency does not scale with time): `export` throttle 6 s + 1 s, `api_budget` PT61S → PT7S. `users/getFields` (3/s) keeps its real limit; a read asks it
only 3 times (schema, renamer, user_fields), so its margin is not reached here.
"""

import copy
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.models import SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.emulator import Dataset, Emulator
from source_iterable import source
from source_iterable.source import SourceIterable

SCALE = 10
SHIPPED_MANIFEST = source.load_manifest
LIMITED = {
    "/api/export/data.json": 4,
    "/api/lists/getUsers": 5,
    "/api/campaigns/metrics": 10,
}


def seconds(duration: str) -> float:
    return float(re.fullmatch(r"PT([\d.]+)S", duration)[1])  # type: ignore[index]


def scaled_manifest() -> dict[str, Any]:
    """The shipped manifest with every minute-long period divided by SCALE, its margin kept."""
    manifest = copy.deepcopy(SHIPPED_MANIFEST())
    for policy in manifest["api_budget"]["policies"]:
        for rate in policy["rates"]:
            interval = seconds(rate["interval"])
            if interval >= 60:
                rate["interval"] = f"PT{(interval - 60) + 60 / SCALE:g}S"
    retriever = manifest["definitions"]["export_stream"]["retriever"]
    retriever["throttle_period"] = f"PT{seconds(retriever['throttle_period']) / SCALE:g}S"
    return manifest


@pytest.fixture
def strict_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    limits = {
        "export": (4, 60 / SCALE),
        "lists_getUsers": (5, 60 / SCALE),
        "campaigns_metrics": (10, 60 / SCALE),
        "users_getFields": (3, 1.0),
    }
    monkeypatch.setattr(source, "load_manifest", scaled_manifest)
    # 1,500 campaigns: 14 URL-sized metrics batches; 8 lists; six export streams, one request each (two months).
    with Emulator(Dataset(seed=7, scale=2, campaigns=1500), rate_limits=limits) as emu:
        yield emu


def test_given_strict_arrival_time_limits_then_a_sync_past_every_limit_gets_no_429(strict_emulator: Emulator) -> None:
    config = {
        "api_key": strict_emulator.api_key,
        "start_date": "2025-01-01T00:00:00Z",
        "end_date": "2025-03-01T00:00:00Z",
        "api_base_url": strict_emulator.url,
        "window_days": 60,
        "lookback_window": 0,
        "export_mode": "sync",
    }
    builder = CatalogBuilder()
    for name in (
        "campaigns_metrics",
        "list_users",
        "users",
        "email_send",
        "email_open",
        "email_click",
        "purchase",
        "custom_event",
        "user_fields",
    ):
        builder = builder.with_stream(name, SyncMode.full_refresh)
    catalog = builder.build()
    output = read(SourceIterable(catalog=catalog, config=config), config, catalog)
    assert not output.errors, [error.trace.error.message for error in output.errors]
    requests_per_path = Counter(r.path for r in strict_emulator.requests if r.path in LIMITED)
    assert all(requests_per_path[path] > limit for path, limit in LIMITED.items()), requests_per_path
    assert [(r.path, r.status) for r in strict_emulator.requests if r.status == 429] == []
