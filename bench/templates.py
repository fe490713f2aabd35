"""python -m bench.templates: the requests of the template content streams on an account with many templates.

The emulator serves an account of `--templates` templates (default 10,000, spread evenly over the four template
types and five media, one in five without content in the default locale), at Iterable's real rate limits (100
requests/second per endpoint). The connector reads the five template content streams in process, incremental,
three times:
1. first sync (no state): every template's content;
2. re-sync, nothing changed: the list pages only;
3. re-sync after `--edits` templates were edited in Iterable (updatedAt moved): those templates' content only.
For each it prints the requests per endpoint, the 404s (templates without default-locale content), the 429s
(none expected: the manifest's budget keeps the content endpoints under Iterable's limit), records and wall time.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, SyncMode
from airbyte_cdk.test.catalog_builder import CatalogBuilder
from airbyte_cdk.test.entrypoint_wrapper import read

from integration_tests.emulator import Dataset, Emulator
from source_iterable.source import SourceIterable

STREAMS = ("email_templates", "push_templates", "sms_templates", "in_app_templates", "embedded_templates")
LIST_PATH = "/api/templates"


@dataclass
class Sync:
    kind: str
    list_requests: int
    content_requests: int
    not_found: int
    rate_limited: int
    records: int
    seconds: float


def sync(emulator: Emulator, kind: str, state: list[AirbyteStateMessage] | None) -> tuple[Sync, list[Any]]:
    config = {"api_key": emulator.api_key, "start_date": "2025-01-01T00:00:00Z", "api_base_url": emulator.url}
    builder = CatalogBuilder()
    for stream in STREAMS:
        builder = builder.with_stream(stream, SyncMode.incremental)
    catalog = builder.build()
    emulator.clear_requests()
    started = time.perf_counter()
    output = read(SourceIterable(catalog=catalog, config=config, state=state), config, catalog, state)
    seconds = time.perf_counter() - started
    if output.errors:
        raise SystemExit(f"{kind}: the sync failed: {output.errors[0].trace.error.message}")
    paths = Counter(request.path for request in emulator.requests)
    content = [request for request in emulator.requests if request.path != LIST_PATH]
    result = Sync(
        kind,
        paths[LIST_PATH],
        len(content),
        sum(request.status == 404 for request in content),
        sum(request.status == 429 for request in emulator.requests),
        len(output.records),
        seconds,
    )
    final_states: dict[str, AirbyteStateMessage] = {}
    for message in output.state_messages:
        final_states[message.state.stream.stream_descriptor.name] = message.state
    return result, list(final_states.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--templates", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=10, help="templates edited before the third sync")
    args = parser.parse_args()

    dataset = Dataset(template_count=args.templates)
    rows = []
    with Emulator(dataset) as emulator:
        first, state = sync(emulator, "first sync", None)
        rows.append(first)
        unchanged, state = sync(emulator, "re-sync, nothing changed", state)
        rows.append(unchanged)
        every = (len(dataset.templates) + len(dataset.embedded_templates)) // max(args.edits, 1)
        edited = [*dataset.templates, *dataset.embedded_templates][::every][: args.edits]
        # Edited a minute ago: later than any template's updatedAt, and not in the future of the next sync.
        moment = datetime.now(UTC) - timedelta(minutes=1)
        for offset, template in enumerate(edited):
            dataset.edit_template(template["templateId"], moment + timedelta(milliseconds=offset))
        after_edits, state = sync(emulator, f"re-sync after {len(edited)} edits", state)
        rows.append(after_edits)

    print(f"{args.templates:,} templates ({len(dataset.embedded_templates):,} embedded), five content streams\n")
    print("| sync | GET templates (list pages) | GET templates/{medium}/get | of which 404 | 429 | records | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row.kind} | {row.list_requests:,} | {row.content_requests:,} | {row.not_found:,} "
            f"| {row.rate_limited} | {row.records:,} | {row.seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
