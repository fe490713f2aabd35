"""The manifest itself: valid for the pinned CDK, every stream named, keyed and described, every class importable."""

import copy
import importlib
import importlib.metadata
import re
from collections.abc import Iterator
from typing import Any

import pytest
from airbyte_cdk.sources.declarative.concurrent_declarative_source import (
    get_declarative_component_schema,
    validate_manifest,
)
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import (
    ManifestComponentTransformer,
)
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import (
    ManifestReferenceResolver,
)

from source_iterable.source import SourceIterable, load_manifest

CONFIG = {"api_key": "test-server-side-key-0123", "start_date": "2024-01-01T00:00:00Z"}


def resolved_manifest() -> dict[str, Any]:
    manifest = ManifestReferenceResolver().preprocess_manifest(copy.deepcopy(load_manifest()))
    return ManifestComponentTransformer().propagate_types_and_parameters("", manifest, {})


def stream_definitions(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The streams a source built with `config` exposes (ConditionalStreams resolved), as manifest dicts."""
    return SourceIterable(config=config)._stream_configs(resolved_manifest())


def class_names(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("class_name"), str):
            yield node["class_name"]
        for value in node.values():
            yield from class_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from class_names(value)


def test_manifest_validates_against_the_cdk_component_schema() -> None:
    validate_manifest(resolved_manifest(), get_declarative_component_schema())


def test_manifest_version_is_the_installed_cdk() -> None:
    assert load_manifest()["version"] == importlib.metadata.version("airbyte-cdk")


@pytest.mark.parametrize("project_type", ["email", "userId", "hybrid"])
def test_stream_names_are_unique_snake_case(project_type: str) -> None:
    names = [stream["name"] for stream in stream_definitions({**CONFIG, "project_type": project_type})]

    assert len(names) == len(set(names))
    assert [name for name in names if not re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name)] == []


@pytest.mark.parametrize("project_type", ["email", "userId"])
def test_every_stream_has_a_primary_key_and_an_inline_schema_with_properties(
    project_type: str,
) -> None:
    for stream in stream_definitions({**CONFIG, "project_type": project_type}):
        assert stream.get("primary_key"), stream["name"]
        loader = stream.get("schema_loader", {})
        if loader.get("type") == "InlineSchemaLoader":
            assert loader["schema"]["properties"], stream["name"]
        else:
            assert loader.get("type") == "CustomSchemaLoader", stream["name"]


@pytest.mark.parametrize(
    "project_type, primary_key",
    [
        ("email", ["listId", "email"]),
        ("hybrid", ["listId", "email"]),
        ("userId", ["listId", "userId"]),
    ],
)
def test_list_users_primary_key_follows_project_type(project_type: str, primary_key: list[str]) -> None:
    streams = {s["name"]: s for s in stream_definitions({**CONFIG, "project_type": project_type})}

    assert streams["list_users"]["primary_key"] == primary_key


def test_every_class_name_imports_from_the_components_package() -> None:
    names = sorted(set(class_names(load_manifest())))
    assert names, "the manifest names no custom component"
    for name in names:
        module_name, _, class_name = name.rpartition(".")
        assert module_name == "source_iterable.components", name
        assert isinstance(getattr(importlib.import_module(module_name), class_name), type), name


@pytest.mark.parametrize(
    "path, limit, interval",
    [
        ("/api/lists/getUsers", 5, "PT61S"),
        ("/api/campaigns/metrics", 10, "PT61S"),
        # The definition gives experiments/metrics no limit: paced like campaigns/metrics.
        ("/api/experiments/metrics", 10, "PT61S"),
        ("/api/users/getFields", 3, "PT1.25S"),
    ],
)
def test_rest_budgets_are_iterables_published_limits_over_a_longer_interval(
    path: str, limit: int, interval: str
) -> None:
    policies = [
        policy
        for policy in load_manifest()["api_budget"]["policies"]
        if any(re.search(matcher["url_path_pattern"], path) for matcher in policy["matchers"])
    ]

    assert [policy["rates"] for policy in policies] == [[{"limit": limit, "interval": interval}]]
