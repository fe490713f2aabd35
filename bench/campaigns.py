"""python -m bench.campaigns: incremental `campaigns` on a large account, and what keeping open ids costs.

The emulator serves an account history of `--campaigns` campaigns (default 50,000; 200 running, recurring,
scheduled or starting, the others finished, one in 50 a draft). The connector reads `campaigns` incrementally, in
process, three times: a first sync; a re-sync with nothing changed; a re-sync after `--advance` open campaigns
moved one step (Scheduled → Running → Finished) with `updatedAt` frozen. For each it prints the requests
(`GET campaigns` pages: the list is read whole, as Iterable cannot filter on updatedAt), the records emitted (the
campaigns not final when last emitted come again on every sync, the ones that moved among them), and the size of
the state (the open ids are kept in it).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read
from freezegun import freeze_time

from integration_tests.emulator import Dataset, Emulator
from source_iterable.source import SourceIterable


def sync(emulator: Emulator, state: list[AirbyteStateMessage] | None) -> tuple[list[Any], int, float, Any]:
    config = {"api_key": emulator.api_key, "start_date": "2025-01-01T00:00:00Z", "api_base_url": emulator.url}
    catalog = CatalogBuilder().with_stream("campaigns", SyncMode.incremental).build()
    emulator.clear_requests()
    started = time.perf_counter()
    # After every date of the data set: the cursor drops campaigns "updated in the future".
    with freeze_time("2026-01-02T00:00:00Z", tick=True):
        output = read(SourceIterable(catalog=catalog, config=config, state=state), config, catalog, state)
    seconds = time.perf_counter() - started
    if output.errors:
        raise SystemExit(f"the sync failed: {output.errors[0].trace.error.message}")
    final = output.state_messages[-1].state
    return [r.record.data for r in output.records], len(emulator.requests), seconds, final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--campaigns", type=int, default=50_000)
    parser.add_argument("--advance", type=int, default=20, help="open campaigns moved one step before the 3rd sync")
    args = parser.parse_args()

    dataset = Dataset(campaigns=args.campaigns)
    rows = []
    with Emulator(dataset) as emulator:
        records, requests, seconds, state = sync(emulator, None)
        rows.append(("first sync", requests, records, seconds, state))
        records, requests, seconds, state = sync(emulator, [state])
        rows.append(("re-sync, nothing changed", requests, records, seconds, state))
        movable = [c for c in dataset.campaigns if c["campaignState"] in ("Scheduled", "Running")][: args.advance]
        for campaign in movable:
            dataset.advance_campaign(campaign["id"])
        records, requests, seconds, state = sync(emulator, [state])
        rows.append((f"re-sync after {len(movable)} moved", requests, records, seconds, state))

    print(f"{args.campaigns:,} campaigns\n")
    print("| sync | GET campaigns pages | records | of which moved | open ids in state | state bytes | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    moved = {c["id"] for c in movable}
    for kind, requests, records, seconds, state in rows:
        stream_state = state.stream.stream_state.__dict__
        size = len(json.dumps(stream_state))
        changed = sum(record["id"] in moved for record in records) if "moved" in kind else 0
        print(
            f"| {kind} | {requests} | {len(records):,} | {changed} | {len(stream_state['open_campaign_ids']):,} "
            f"| {size:,} | {seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
