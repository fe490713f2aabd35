"""The one place the connector reaches into private parts of airbyte-cdk (pinned at 7.39.1), each named with why.

A CDK upgrade that renames one of these breaks here, in one small module, not across the package. Everything else
uses the CDK's public interfaces. (`export/checkpoint.py` uses only the public `Cursor` interface.)
"""

from collections.abc import Collection, Mapping
from typing import Any

from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.models.declarative_component_schema import HttpRequester as HttpRequesterModel
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester
from airbyte_cdk.sources.streams.concurrent.abstract_stream import AbstractStream
from airbyte_cdk.sources.streams.concurrent.cursor import Cursor


def prepare_for_stream_build(source: ConcurrentDeclarativeSource) -> None:
    """`ConcurrentDeclarativeSource._prepare_for_stream_build`: the config validations and the API budget.

    Why: `check` runs the manifest's probes instead of a CheckStream (source.py); they need the validated config and
    the same API budget the streams get, which the CDK sets up only here."""
    source._prepare_for_stream_build()


def build_requester(source: ConcurrentDeclarativeSource, definition: Mapping[str, Any], name: str) -> HttpRequester:
    """One HttpRequester from a manifest definition, built by the source's own component factory (`_constructor`),
    with its `$parameters` propagated to its parts (`ManifestComponentTransformer`).

    Why: the check probes are manifest definitions (`definitions.check_probes`) that no stream owns; the factory gives
    them the manifest's authenticator, error handler and the source's API budget. The source propagates
    `$parameters` through its streams only; a probe's error handler needs them too (it names the probe's endpoint)."""
    resolved = ManifestComponentTransformer().propagate_types_and_parameters("", dict(definition), {})
    requester: HttpRequester = source._constructor.create_component(
        HttpRequesterModel, resolved, source._config, name=name
    )
    return requester


def build_streams(source: ConcurrentDeclarativeSource, names: Collection[str] | None) -> list[AbstractStream]:
    """The streams `ConcurrentDeclarativeSource.streams` builds, only those in `names` (every one when None), with
    `_prepare_for_stream_build`, `_stream_configs` and `_create_streams` as it calls them.

    Why: `streams()` builds every stream of the manifest (a tree of components each, about a second in all) for a
    read that selects one; `_create_streams` takes the selected definitions apart from all of them (parents are
    cached from the latter), so a read builds only what its catalog selects."""
    source._prepare_for_stream_build()
    definitions = source._stream_configs(source._source_config) + source.dynamic_streams
    selected = definitions if names is None else [d for d in definitions if d.get("name") in names]
    return source._create_streams(selected, definitions)


def manifest(source: ConcurrentDeclarativeSource) -> Mapping[str, Any]:
    """The source's resolved manifest (`_source_config`). Why: the check probes and the export streams' definitions
    are read from it; the CDK keeps no public copy."""
    return source._source_config


def stream_definitions(source: ConcurrentDeclarativeSource) -> list[dict[str, Any]]:
    """Every stream definition of the manifest, conditional streams resolved for the config (`_stream_configs`).

    Why: export mode `auto` (export_mode.py) plans the whole sync before it starts, from each export stream's cursor
    field; the streams themselves are built only once the read has begun."""
    definitions: list[dict[str, Any]] = source._stream_configs(source._source_config)
    return definitions


def saved_stream_state(source: ConcurrentDeclarativeSource, stream: str) -> Mapping[str, Any]:
    """The incoming state of `stream` (`_connector_state_manager`). Why: the same planning needs each stream's saved
    cursor before the CDK hands it to the stream's cursor."""
    state: Mapping[str, Any] = source._connector_state_manager.get_stream_state(stream, None)
    return state


def config(source: ConcurrentDeclarativeSource) -> Mapping[str, Any]:
    """The config after the manifest's normalisation rules (`_config`). Why: the derived fields (`api_base`,
    `start_datetime`) exist only there."""
    return source._config


# Keys the platform adds to a stream's state (`__ab_no_cursor_state_message`, …): not the connector's to keep.
AIRBYTE_KEY_PREFIX = "__ab_"


def keep_in_state(cursor: Cursor, key: str, value: Any) -> None:
    """Keep `key: value` in every state `cursor` emits from now on, and drop the platform's `__ab_…` keys.

    Private CDK behaviour (airbyte-cdk 7.39.1, `streams/concurrent/state_converters/abstract_stream_state_converter`,
    `convert_to_state_message`): a `ConcurrentCursor` with a sequential state keeps the incoming state's other keys
    (its `legacy` state) and returns that same dict, its cursor value updated, from `state` on every call; so a key
    set in it is emitted with every later state. Why: a declarative stream's state is its cursor's, and a cursor keeps
    one value; `campaigns` needs a second, the open campaign ids (components/open_campaigns.py). Pinned by
    unit_tests/components/test_open_campaigns.py.
    """
    state = cursor.state
    for platform_key in [name for name in state if name.startswith(AIRBYTE_KEY_PREFIX)]:
        del state[platform_key]
    state[key] = value
