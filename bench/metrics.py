"""python -m bench.metrics: metrics requests per sync, and the minutes they cost at Iterable's limit.

For each account size (default 1,500 and 50,000 campaigns, 200 of them running, recurring, scheduled or starting;
the others finished, `endedAt` spread over 5 years up to 2025-12-31, one in 50 a draft) the emulator serves the
account and the connector reads, in process:
- campaigns_metrics, first sync (no state: every campaign) and incremental (state: a sync the day before);
- campaigns_metrics_daily, first sync (campaign_metrics_daily_days, default 30) and incremental (state: the
  day before, so the lookback's 15 days are read again), both up to end_date 2026-01-01;
- experiments_metrics (`experiments/metrics`, the same campaigns as campaigns_metrics), first sync and incremental
  (state: a sync the day before); two in three email campaigns have an experiment.
`--streams` picks some of them. The metrics budgets of the manifest are lifted for these counting runs (they would otherwise take hours); minutes
are projected from the request count at the manifest's own metrics rate (requests per window; experiments/metrics
is paced like campaigns/metrics). "before" is campaigns_metrics' previous design: every campaign on every sync, in
batches of 60 ids.
`--strict` then reads, with the manifest's real budget against an emulator enforcing Iterable's real limits (10 per
minute, by arrival), the 50,000-campaign incremental campaigns_metrics and the 1,500-campaign incremental
campaigns_metrics_daily (about 32 requests: minutes of pacing), and reports their 429 answers.
"""

from __future__ import annotations

import argparse
import copy
import math
import time
from dataclasses import dataclass
from typing import Any

from airbyte_cdk.models import SyncMode
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from airbyte_cdk.test.state_builder import StateBuilder

from integration_tests.emulator import Dataset, Emulator
from source_iterable.source import load_manifest

PATHS = {
    "campaigns_metrics": "/api/campaigns/metrics",
    "campaigns_metrics_daily": "/api/campaigns/metrics",
    "experiments_metrics": "/api/experiments/metrics",
}
OLD_BATCH = 60
ACTIVE = 200
STATES = {
    "campaigns_metrics": {"synced_at": "2025-12-31T00:00:00Z"},
    "campaigns_metrics_daily": {"date": "2025-12-31"},
    "experiments_metrics": {"synced_at": "2025-12-31T00:00:00Z"},
}


@dataclass
class Sync:
    campaigns: int
    id_digits: str
    stream: str
    kind: str
    metrics_requests: int
    campaign_pages: int
    records: int
    seconds: float
    rate_limited: int


def metrics_rate(manifest: dict[str, Any]) -> tuple[int, float]:
    """(calls, seconds) of the manifest's api_budget policy for campaigns/metrics."""
    for policy in manifest["api_budget"]["policies"]:
        if any("campaigns/metrics" in m.get("url_path_pattern", "") for m in policy["matchers"]):
            rate = policy["rates"][0]
            seconds = float(rate["interval"].removeprefix("PT").removesuffix("S"))
            return int(rate["limit"]), seconds
    raise ValueError("the manifest has no api_budget policy for campaigns/metrics")


def with_metrics_interval(manifest: dict[str, Any], seconds: float) -> dict[str, Any]:
    changed = copy.deepcopy(manifest)
    for policy in changed["api_budget"]["policies"]:
        if any("campaigns/metrics" in m.get("url_path_pattern", "") for m in policy["matchers"]):
            policy["rates"][0]["interval"] = f"PT{seconds:g}S"
    return changed


def without_metrics_budget(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its campaigns/metrics and experiments/metrics policies."""
    lifted = copy.deepcopy(manifest)
    lifted["api_budget"]["policies"] = [
        p
        for p in lifted["api_budget"]["policies"]
        if not any("/metrics" in m.get("url_path_pattern", "") for m in p["matchers"])
    ]
    return lifted


def run(emulator: Emulator, manifest: dict[str, Any], stream: str, state: dict[str, Any] | None) -> tuple[int, float]:
    config = {
        "api_key": emulator.api_key,
        "start_date": "2020-01-01T00:00:00Z",
        "end_date": "2026-01-01T00:00:00Z",
        "api_base_url": emulator.url,
    }
    catalog = CatalogBuilder().with_stream(stream, SyncMode.incremental).build()
    states = StateBuilder().with_stream_state(stream, state).build() if state else None
    source = ConcurrentDeclarativeSource(catalog=catalog, config=config, state=states, source_config=manifest)
    started = time.perf_counter()
    output = read(source, config, catalog, states)
    seconds = time.perf_counter() - started
    if output.errors:
        raise SystemExit(f"{stream}: the sync failed: {output.errors[0].trace.error.message}")
    return len(output.records), seconds


def measure(dataset: Dataset, digits: str, manifest: dict[str, Any], streams: list[str]) -> list[Sync]:
    results = []
    with Emulator(dataset, rate_limits={}) as emulator:
        for stream in streams:
            for kind, state in (("first sync", None), ("incremental", STATES[stream])):
                emulator.clear_requests()
                records, seconds = run(emulator, manifest, stream, state)
                metrics = sum(r.path == PATHS[stream] for r in emulator.requests)
                pages = sum(r.path == "/api/campaigns" for r in emulator.requests)
                results.append(Sync(len(dataset.campaigns), digits, stream, kind, metrics, pages, records, seconds, 0))
    return results


def strict(dataset: Dataset, manifest: dict[str, Any], stream: str) -> Sync:
    """One incremental sync with the manifest's real budget against Iterable's real limits (by arrival)."""
    with Emulator(dataset) as emulator:
        records, seconds = run(emulator, manifest, stream, STATES[stream])
        metrics = [r for r in emulator.requests if r.path == PATHS[stream]]
        pages = sum(r.path == "/api/campaigns" for r in emulator.requests)
        digits = str(len(str(dataset.campaigns[-1]["id"])))
        return Sync(
            len(dataset.campaigns),
            digits,
            stream,
            "incremental, real limits",
            len(metrics),
            pages,
            records,
            seconds,
            sum(r.status == 429 for r in metrics),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, nargs="+", default=[1_500, 50_000])
    parser.add_argument("--streams", nargs="+", choices=sorted(PATHS), default=list(PATHS))
    parser.add_argument("--strict", action="store_true", help="also run incremental syncs under the real limits")
    parser.add_argument(
        "--metrics-interval",
        type=float,
        default=None,
        help="seconds of the manifest's campaigns/metrics budget window for this run (e.g. 61)",
    )
    parser.add_argument(
        "--counts",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the counting runs (--no-counts: only --strict)",
    )
    args = parser.parse_args()
    manifest = load_manifest()
    if args.metrics_interval is not None:
        manifest = with_metrics_interval(manifest, args.metrics_interval)
    calls, seconds = metrics_rate(manifest)
    lifted = without_metrics_budget(manifest)
    rows: list[Sync] = []
    if args.counts:
        for count in args.campaigns:
            dataset = Dataset(campaigns=count, active_campaigns=ACTIVE)
            rows += measure(dataset, str(len(str(dataset.campaigns[-1]["id"]))), lifted, args.streams)
        largest = Dataset(campaigns=max(args.campaigns), active_campaigns=ACTIVE, campaign_id_digits=19)
        rows += measure(largest, "19", lifted, args.streams)
    if args.strict:
        rows.append(
            strict(Dataset(campaigns=max(args.campaigns), active_campaigns=ACTIVE), manifest, "campaigns_metrics")
        )
        # More requests than the budget allows per minute: the pacing itself is what is measured (minutes).
        rows.append(
            strict(Dataset(campaigns=min(args.campaigns), active_campaigns=ACTIVE), manifest, "campaigns_metrics_daily")
        )

    print(
        f"campaigns/metrics budget in the manifest: {calls} per {seconds:g} s; {ACTIVE} active campaigns per account\n"
    )
    print(
        "| campaigns | id digits | stream | sync | before: requests (min) | metrics requests | projected min "
        "| campaigns pages | records | wall s | 429s |"
    )
    print("|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        before = (
            f"{math.ceil(row.campaigns / OLD_BATCH):,} ({math.ceil(row.campaigns / OLD_BATCH) * seconds / calls / 60:.1f})"
            if row.stream == "campaigns_metrics"
            else "-"
        )
        projected = row.metrics_requests * seconds / calls / 60
        print(
            f"| {row.campaigns:,} | {row.id_digits} | {row.stream} | {row.kind} | {before} | {row.metrics_requests:,} "
            f"| {projected:.1f} | {row.campaign_pages} | {row.records:,} | {row.seconds:.1f} | {row.rate_limited} |"
        )


if __name__ == "__main__":
    main()
