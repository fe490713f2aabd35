"""Console script `source-iterable`: the Airbyte protocol verbs spec, check, discover and read."""

import sys
from typing import List

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch

from source_iterable.source import SourceIterable


def build_source(args: List[str]) -> SourceIterable:
    """Build the source with config, catalog and state from the command line (the CDK ignores them later)."""
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceIterable(
        catalog=SourceIterable.read_catalog(catalog_path) if catalog_path else None,
        config=SourceIterable.read_config(config_path) if config_path else None,
        state=SourceIterable.read_state(state_path) if state_path else None,
        config_path=config_path,
    )


def run() -> None:
    args = sys.argv[1:]
    launch(build_source(args), args)


if __name__ == "__main__":
    run()
