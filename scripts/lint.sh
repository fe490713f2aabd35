#!/usr/bin/env bash
# Lint, format and type checks (config in pyproject.toml): ruff's rules and formatting over the tree, mypy over the package.
# Run after scripts/setup.sh (scripts/test.sh runs it), which installs both into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy source_iterable
