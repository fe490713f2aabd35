#!/usr/bin/env bash
# Creates .venv (once) and installs the connector with its test dependencies into it.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
# --no-compile: modules are compiled to bytecode when first imported instead of all at install (most of the CDK's
# dependencies are never imported here; compiling them is a large part of a clean clone's setup time).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-compile -e '.[dev]'
