"""bounds.py is the one place of every bound: the manifest agrees with it, the README names each one, and the longest
silence they allow stays below what the platform tolerates."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from source_iterable import bounds
from source_iterable.source import load_manifest

ROOT = Path(__file__).resolve().parent.parent
CONSTANTS = sorted(name for name in vars(bounds) if re.fullmatch(r"[A-Z][A-Z0-9_]+", name))


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load_manifest()


def test_the_rest_requester_waits_and_tries_as_the_bounds_say(manifest: dict[str, Any]) -> None:
    definitions = manifest["definitions"]
    requester = definitions["requester"]
    assert (requester["connect_timeout_in_seconds"], requester["read_timeout_in_seconds"]) == (
        bounds.REST_CONNECT_TIMEOUT_SECONDS,
        bounds.REST_READ_TIMEOUT_SECONDS,
    )
    assert definitions["error_handler"]["max_retries"] + 1 == bounds.REQUEST_TRIES
    assert definitions["key_probe"]["error_handler"]["max_retries"] + 1 == bounds.REQUEST_TRIES
    assert definitions["check_error_handler"]["max_retries"] + 1 == bounds.REQUEST_TRIES


def test_the_export_requester_and_retriever_wait_and_try_as_the_bounds_say(manifest: dict[str, Any]) -> None:
    definitions = manifest["definitions"]
    requester = definitions["export_requester"]
    assert (requester["connect_timeout_in_seconds"], requester["read_timeout_in_seconds"]) == (
        bounds.EXPORT_CONNECT_TIMEOUT_SECONDS,
        bounds.EXPORT_READ_TIMEOUT_SECONDS,
    )
    retriever = definitions["export_stream"]["retriever"]
    assert retriever["tries_per_window"] == bounds.EXPORT_WINDOW_TRIES
    assert retriever["stall_deadline"] == f"PT{bounds.NO_PROGRESS_SECONDS / 60:.0f}M"


@pytest.mark.parametrize("name", CONSTANTS)
def test_the_readme_names_every_bound(name: str) -> None:
    assert f"`{name}`" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_longest_silence_stays_below_what_the_platform_tolerates() -> None:
    rest_attempts = bounds.REQUEST_TRIES * (bounds.REST_CONNECT_TIMEOUT_SECONDS + bounds.REST_READ_TIMEOUT_SECONDS)
    rest_backoffs = sum(min(bounds.BACKOFF_CAP_SECONDS, bounds.BACKOFF_FIRST_SECONDS * 2**n) for n in range(5))
    silences = {
        "a REST request failing every attempt": rest_attempts + rest_backoffs,
        "429s on one request": (bounds.RATE_LIMITED_TRIES - 1) * bounds.RETRY_AFTER_CAP_SECONDS,
        "a stalled export range": bounds.NO_PROGRESS_SECONDS + bounds.EXPORT_READ_TIMEOUT_SECONDS,
        "a queued job between two reports": bounds.STILL_WAITING_EVERY_SECONDS + bounds.JOB_MAX_POLL_SECONDS,
    }
    metadata = yaml.safe_load((ROOT / "metadata.yaml").read_text(encoding="utf-8"))
    longest = max(silences.values())
    assert longest == bounds.STILL_WAITING_EVERY_SECONDS + bounds.JOB_MAX_POLL_SECONDS
    assert longest < metadata["data"]["maxSecondsBetweenMessages"]
    ends = {name: seconds for name, seconds in silences.items() if name != "a queued job between two reports"}
    assert max(ends.values()) <= 10 * 60, ends  # what ends the wait, not a report, comes within 10 minutes
