#!/usr/bin/env bash
# End to end with a real Airbyte client: PyAirbyte (PyPI `airbyte`) runs the connector's installed console script
# (.venv/bin/source-iterable) against the local emulator into PyAirbyte's default DuckDB cache, twice.
# PyAirbyte pulls ~700 MB (DuckDB, SQLAlchemy, cloud SDKs), so it lives in its own .venv-pyairbyte, apart from the
# connector's .venv. Offline: no connector registry lookup, no telemetry (AIRBYTE_OFFLINE_MODE, DO_NOT_TRACK).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ ! -x .venv-pyairbyte/bin/python ]; then
  python3 -m venv .venv-pyairbyte
fi
.venv-pyairbyte/bin/python -m pip install --quiet --disable-pip-version-check 'airbyte==0.71.3' 'pytest>=8'
export AIRBYTE_OFFLINE_MODE=1 DO_NOT_TRACK=1
exec .venv-pyairbyte/bin/python -m pytest pyairbyte_tests "$@"
