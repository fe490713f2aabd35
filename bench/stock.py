"""The connector through the CDK's stock `launch`, the "before" of bench/RESULTS.md: python -m bench.stock read ...

Same source and manifest as the `source-iterable` console script, without anything source_iterable/run.py adds
(lighter imports, record batches, direct record serialisation).
"""

import sys

from airbyte_cdk.entrypoint import AirbyteEntrypoint, launch

from source_iterable.source import SourceIterable


def main() -> None:
    args = sys.argv[1:]
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    source = SourceIterable(
        catalog=SourceIterable.read_catalog(catalog_path) if catalog_path else None,
        config=SourceIterable.read_config(config_path) if config_path else None,
        state=SourceIterable.read_state(state_path) if state_path else None,
        config_path=config_path,
    )
    launch(source, args)


if __name__ == "__main__":
    main()
