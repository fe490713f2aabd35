#!/usr/bin/env bash
# The connector's image, built and run as Airbyte runs it: installs podman and mmdebstrap (Debian's packages; root),
# builds a Debian bookworm base image (cached by a hash of its inputs) and the project's Dockerfile on it, then
# runs integration_tests/test_image.py against the image: spec, check, discover and read (a first sync, then an
# incremental one from its state) against the emulator on the host, equal to the console script's output.
# It fails when the image cannot be built or run. SKIP_DOCKER=1 skips it on a person's own machine only: in CI
# (CI set) it is refused.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_DOCKER:-}" = "1" ]; then
  if [ -n "${CI:-}" ]; then
    echo "test_docker.sh: SKIP_DOCKER=1 is not allowed in CI: the image must be built and run" >&2
    exit 1
  fi
  echo "test_docker.sh: SKIPPED (SKIP_DOCKER=1): the image was NOT built nor tested" >&2
  exit 0
fi

missing=()
for tool in podman mmdebstrap runc; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" != "0" ]; then
    echo "test_docker.sh: needs ${missing[*]} (Debian: apt-get install podman mmdebstrap runc, as root)" >&2
    exit 1
  fi
  echo "test_docker.sh: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman mmdebstrap runc >/dev/null
fi

bash scripts/setup.sh
image="${SOURCE_ITERABLE_IMAGE:-localhost/source-iterable:dev}"
.venv/bin/python -m integration_tests.image build --tag "$image"
export SOURCE_ITERABLE_IMAGE="$image" CONTAINER_CLI=podman
exec .venv/bin/python -m pytest -m image_tests integration_tests/test_image.py -p no:randomly "$@"
