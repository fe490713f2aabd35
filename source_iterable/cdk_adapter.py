"""The one place the connector reaches into private parts of airbyte-cdk (pinned at 7.39.1), each named with why.

A CDK upgrade that renames one of these breaks here, in one small module, not across the package. Everything else
uses the CDK's public interfaces. (`components/cursor_checkpoint.py` uses only the public `Cursor` interface.)
"""

from collections.abc import Iterator, Mapping
from typing import Any

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import AirbyteMessage
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.sources.declarative.models.declarative_component_schema import HttpRequester as HttpRequesterModel
from airbyte_cdk.sources.declarative.requesters.http_requester import HttpRequester


def queued_messages(entrypoint: AirbyteEntrypoint) -> Iterator[AirbyteMessage]:
    """`AirbyteEntrypoint._emit_queued_messages`: the log and trace messages the source queued.

    Why: the console script's own `read` loop (run.py, which writes records without the CDK's per-record cost) must
    emit them where the stock `read` does, and the CDK has no public call for it."""
    yield from entrypoint._emit_queued_messages(entrypoint.source)


def check_memory(entrypoint: AirbyteEntrypoint) -> None:
    """`AirbyteEntrypoint._memory_monitor.check_memory_usage()`, as the stock `read` calls it after each message.

    Why: same loop as `queued_messages`; without it a read near the container's memory limit would not fail cleanly
    with the CDK's message."""
    entrypoint._memory_monitor.check_memory_usage()


def prepare_for_stream_build(source: ConcurrentDeclarativeSource) -> None:
    """`ConcurrentDeclarativeSource._prepare_for_stream_build`: the config validations and the API budget.

    Why: `check` runs the manifest's probes instead of a CheckStream (source.py); they need the validated config and
    the same API budget the streams get, which the CDK sets up only here."""
    source._prepare_for_stream_build()


def build_requester(source: ConcurrentDeclarativeSource, definition: Mapping[str, Any], name: str) -> HttpRequester:
    """One HttpRequester from a manifest definition, built by the source's own component factory (`_constructor`).

    Why: the check probes are manifest definitions (`definitions.check_probes`) that no stream owns; the factory gives
    them the manifest's authenticator, error handler and the source's API budget."""
    requester: HttpRequester = source._constructor.create_component(
        HttpRequesterModel, definition, source._config, name=name
    )
    return requester


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


def set_config(source: ConcurrentDeclarativeSource, value: Mapping[str, Any]) -> None:
    """Replace the config the source builds its streams from (`_config`). Why: the export paths chosen for this sync
    reach the manifest's components as a config key (`EXPORT_PATHS_KEY`), since streams are built from the config."""
    source._config = value
