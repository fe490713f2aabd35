"""PyAirbyte, a real Airbyte client, runs the connector's installed console script against the local emulator and
loads every stream into its default DuckDB cache: a full refresh, then an incremental read from the state it kept.

Run with `bash scripts/test_pyairbyte.sh` (its own venv: PyAirbyte is too heavy for the connector's). The cache's
row count of every table must equal the emulator's data set after each read: a record that does not fit its
declared schema (a timestamp string in an integer column) fails PyAirbyte's load of the whole read.
"""

import os
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from integration_tests.emulator import Dataset, Emulator

REPO = Path(__file__).resolve().parents[1]
CONSOLE_SCRIPT = Path(os.environ.get("SOURCE_ITERABLE_EXECUTABLE", REPO / ".venv" / "bin" / "source-iterable"))


def export_data_types() -> dict[str, str]:
    """Export stream name -> dataTypeName, as the manifest's stream list declares them: in the list itself, or in
    the definition an entry names by `$ref` (`custom_event_stream`)."""
    manifest = yaml.safe_load((REPO / "manifest.yaml").read_text())

    def parameters(entry: dict[str, Any]) -> dict[str, Any]:
        reference = entry.get("$ref", "")
        named = manifest["definitions"][reference.rsplit("/", 1)[-1]] if reference.startswith("#/definitions/") else {}
        return {**named.get("$parameters", {}), **entry.get("$parameters", {})}

    return {found["name"]: found["data_type"] for found in map(parameters, manifest["streams"]) if "data_type" in found}


def expected_rows(dataset: Dataset) -> dict[str, int]:
    """Rows per stream for the data set: one per object, list member, metadata key, user and export event."""
    rows = dataset.object_counts()
    for name, data_type in export_data_types().items():
        table = dataset.event_table(data_type)
        assert table is not None, data_type
        rows[name] = len(table)
    return rows


@pytest.fixture(scope="module")
def airbyte(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """PyAirbyte, imported offline with its project directory (and so its default cache) in a temporary folder.

    Its settings are read once, at import, from the environment."""
    os.environ["AIRBYTE_OFFLINE_MODE"] = "1"
    os.environ["DO_NOT_TRACK"] = "1"
    os.environ["AIRBYTE_PROJECT_DIR"] = str(tmp_path_factory.mktemp("pyairbyte-project"))
    import airbyte

    return airbyte


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(Dataset(seed=7), rate_limits={}) as emu:
        yield emu


def daily_rows_served(emulator: Emulator) -> int:
    """The (campaign, day) pairs the emulator answered in one-day `campaigns/metrics` requests: one row each in
    `campaigns_metrics_daily` (the emulator answers one row per known campaignId asked; the key is [id, date], so a
    day asked again in a later read is the same row)."""
    pairs = set()
    for request in emulator.requests:
        start, end = request.params.get("startDateTime", [""])[0], request.params.get("endDateTime", [""])[0]
        if request.path != "/api/campaigns/metrics" or request.status != 200 or not start or not end:
            continue
        day = date.fromisoformat(start[:10])
        if date.fromisoformat(end[:10]) - day == timedelta(days=1):
            pairs |= {(campaign_id, day) for campaign_id in request.params["campaignId"]}
    return len(pairs)


def row_counts(cache: Any, names: list[str]) -> dict[str, int]:
    return {name: len(cache[name]) for name in names}


def test_pyairbyte_full_refresh_then_incremental_into_duckdb_has_every_row_once(
    airbyte: Any, emulator: Emulator
) -> None:
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT} is missing: run bash scripts/setup.sh"
    config = {
        "api_key": emulator.api_key,
        "start_date": "2025-01-01T00:00:00Z",
        "end_date": "2026-01-01T00:00:00Z",
        "api_base_url": emulator.url,
        "window_days": 365,
        "lookback_window": 0,
        "export_requests_per_minute": 1000,
    }
    source = airbyte.get_source("source-iterable", config=config, local_executable=str(CONSOLE_SCRIPT))
    source.select_all_streams()
    cache = airbyte.get_default_cache()
    expected = expected_rows(emulator.dataset)
    assert sorted(source.get_selected_streams()) == sorted([*expected, "campaigns_metrics_daily"])

    source.read(cache=cache, force_full_refresh=True)
    expected["campaigns_metrics_daily"] = daily_rows_served(emulator)
    assert expected["campaigns_metrics_daily"] > 0
    assert row_counts(cache, sorted(expected)) == expected

    source.read(cache=cache)
    expected["campaigns_metrics_daily"] = daily_rows_served(emulator)
    assert row_counts(cache, sorted(expected)) == expected


# Issue 17 §2: the purge statement docs/iterable.md gives for DuckDB, run as written on what PyAirbyte loaded.
def documented_duckdb_purge() -> str:
    """The ```sql block of docs/iterable.md whose first line is `-- DuckDB`."""
    blocks = (REPO / "docs" / "iterable.md").read_text().split("```sql\n")[1:]
    (block,) = [block.split("```", 1)[0] for block in blocks if block.startswith("-- DuckDB\n")]
    return block


def test_the_documented_duckdb_purge_deletes_exactly_the_forgotten_users_of_a_hybrid_project(
    airbyte: Any, tmp_path: Path
) -> None:
    with Emulator(Dataset(seed=7, project_type="hybrid"), rate_limits={}) as hybrid:
        config = {
            "api_key": hybrid.api_key,
            "start_date": "2025-01-01T00:00:00Z",
            "api_base_url": hybrid.url,
            "project_type": "hybrid",
        }
        source = airbyte.get_source("source-iterable", config=config, local_executable=str(CONSOLE_SCRIPT))
        source.select_streams(["forgotten_users"])
        cache = airbyte.caches.DuckDBCache(db_path=tmp_path / "warehouse.duckdb")
        source.read(cache=cache)
        dataset = hybrid.dataset
    # A warehouse synced before the users were forgotten: the kept users and the forgotten ones as their own data
    # spells them (mixed case, stray spaces), forgotten by email or by userId.
    kept = [(user.get("email"), user.get("userId")) for user in dataset.users]
    forgotten = [(email, None) for email in dataset.forgotten_emails] + [
        (None, user_id) for user_id in dataset.forgotten_user_ids
    ]
    rows = ", ".join(
        "(" + ", ".join("NULL" if v is None else "'" + v.replace("'", "''") + "'" for v in row) + ")"
        for row in kept + forgotten
    )
    cache.execute_sql(["CREATE TABLE users (email VARCHAR, userId VARCHAR)", f"INSERT INTO users VALUES {rows}"])

    cache.execute_sql(documented_duckdb_purge())

    left = cache.run_sql_query("SELECT email, userId FROM users")
    assert sorted((row["email"] or "", row["userId"] or "") for row in left) == sorted(
        (email or "", user_id or "") for email, user_id in kept
    )
    assert len(cache["forgotten_users"]) == len(forgotten)
