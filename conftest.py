"""Fixtures for the whole suite, unit and integration tests alike."""

import functools
import pickle
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from airbyte_cdk.sources.declarative import concurrent_declarative_source
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

from source_iterable import source


def _content_key(manifest: Any) -> bytes:
    return pickle.dumps(manifest, protocol=pickle.HIGHEST_PROTOCOL)


@pytest.fixture(scope="session", autouse=True)
def each_manifest_resolved_and_validated_once() -> Iterator[None]:
    """Parse, resolve and validate each distinct manifest once per test session instead of once per source built.

    Every `SourceIterable` parses manifest.yaml, and the CDK then loads its component schema, resolves the
    manifest's `$ref`s and `$parameters`, and validates the result against that schema: ~0.5 s of the ~0.85 s a
    source costs before it reads, and the suite builds hundreds of sources from the same manifest. These steps
    depend on the manifest's content only, so their results are kept by content: a manifest a test changed gets
    its own real resolution and validation, and each source gets its own copy of the manifest. The console
    script's runs (subprocesses) and the manifest's own tests (unit_tests/test_manifest.py) do the full work.
    """
    resolve = ConcurrentDeclarativeSource._pre_process_manifest
    validate = ConcurrentDeclarativeSource._validate_source
    parsed = _content_key(source.load_manifest())
    resolved: dict[bytes, bytes] = {}
    valid: set[bytes] = set()

    def resolve_once(instance: ConcurrentDeclarativeSource, manifest: dict[str, Any]) -> dict[str, Any]:
        key = _content_key(manifest)
        if key not in resolved:
            resolved[key] = _content_key(resolve(instance, manifest))
        copy: dict[str, Any] = pickle.loads(resolved[key])
        return copy

    def validate_once(instance: ConcurrentDeclarativeSource) -> None:
        key = _content_key(instance._source_config)
        if key not in valid:
            validate(instance)
            valid.add(key)

    def load_manifest_once() -> dict[str, Any]:
        manifest: dict[str, Any] = pickle.loads(parsed)
        return manifest

    schema = functools.cache(concurrent_declarative_source.get_declarative_component_schema)
    with (
        mock.patch.object(source, "load_manifest", load_manifest_once),
        mock.patch.object(ConcurrentDeclarativeSource, "_pre_process_manifest", resolve_once),
        mock.patch.object(ConcurrentDeclarativeSource, "_validate_source", validate_once),
        mock.patch.object(concurrent_declarative_source, "get_declarative_component_schema", schema),
    ):
        yield
