# syntax=docker/dockerfile:1
# Standalone image of the connector, for Airbyte's "custom connector" form or plain docker:
#   docker build -t source-iterable:0.3.0 .
#   docker run --rm source-iterable:0.3.0 spec
#   docker run --rm -v "$PWD/secrets:/secrets" source-iterable:0.3.0 check --config /secrets/config.json
# integration_tests/test_packaging.py performs the two pip steps below in a fresh venv and lints this file;
# scripts/test_docker.sh builds it with podman on a Debian bookworm base (--build-arg PYTHON_IMAGE=..., no Docker
# Hub needed) and runs the image as Airbyte does.

ARG PYTHON_IMAGE=docker.io/library/python:3.11.11-slim-bookworm@sha256:081075da77b2b55c23c088251026fb69a7b2bf92471e491ff5fd75c192fd38e5

# Stage 1: build the wheel (the manifest is packaged inside it as source_iterable/manifest.yaml).
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md manifest.yaml ./
COPY source_iterable ./source_iterable
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /dist .

# Stage 2: install only the wheel and its runtime dependencies; no sources, no build tools, no pip cache.
FROM ${PYTHON_IMAGE}
LABEL io.airbyte.name=source-iterable \
      io.airbyte.version=0.3.0
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    python -m pip install --no-cache-dir /dist/*.whl \
    && groupadd --gid 1000 airbyte \
    && useradd --uid 1000 --gid 1000 --no-create-home --shell /usr/sbin/nologin airbyte
WORKDIR /airbyte/integration_code
# Numeric, so the platform's non-root check holds without resolving names (uid/gid 1000 = Airbyte's convention).
USER 1000:1000
ENV AIRBYTE_ENTRYPOINT="source-iterable"
ENTRYPOINT ["source-iterable"]
