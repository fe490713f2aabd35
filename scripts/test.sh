#!/usr/bin/env bash
# The test command: sets up .venv, then runs every test offline (HTTP goes only to mocks and the local emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
