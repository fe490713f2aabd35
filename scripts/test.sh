#!/usr/bin/env bash
# The test command: sets up .venv, then runs every test offline (HTTP goes only to mocks and the local emulator).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Two workers (pytest-xdist), each given whole test files: the fixed-port acceptance emulator's tests are all
# collected in test_acceptance_fixtures.py, so one worker runs them. `-n 0` runs in one process.
exec .venv/bin/python -m pytest -n 2 --dist loadfile "$@"
