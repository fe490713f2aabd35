#!/usr/bin/env bash
# The main job end to end: start the bundled Iterable emulator, then spec, check, discover and read every stream
# through the `source-iterable` console script, ending with a record count per stream.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m integration_tests.demo "$@"
