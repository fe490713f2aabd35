"""The command line's files (`--config`, `--catalog`, `--state`) read into what the CDK expects, or one config
error naming the file and the problem, never a traceback.

States are accepted in every shape Airbyte has written them: a list of STREAM messages, GLOBAL messages (their
per-stream states are taken; this connector keeps no shared state), LEGACY messages and the bare legacy
`{stream: state}` object (mapped to one STREAM state per stream).
"""

import json
from collections.abc import Mapping, MutableMapping
from typing import Any

from airbyte_cdk.models import (
    AirbyteStateMessage,
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
)

from source_iterable.config_errors import config_error


def read_json(path: str, kind: str) -> Any:
    """The JSON value in the `kind` file at `path` (its content never appears in an error: it may hold the key)."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except FileNotFoundError:
        raise config_error(f"The {kind} file {path} does not exist.") from None
    except IsADirectoryError:
        raise config_error(f"The {kind} file {path} is a directory, not a file.") from None
    except PermissionError:
        raise config_error(f"The {kind} file {path} cannot be read: permission denied.") from None
    except UnicodeDecodeError:
        raise config_error(f"The {kind} file {path} is not UTF-8 text.") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise config_error(
            f"The {kind} file {path} is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}."
        ) from None


def read_config_file(path: str) -> MutableMapping[str, Any]:
    config = read_json(path, "config")
    if not isinstance(config, MutableMapping):
        raise config_error(f"The config file {path} must hold a JSON object; it holds {_kind_of(config)}.")
    return config


def read_catalog_file(path: str) -> ConfiguredAirbyteCatalog:
    catalog = read_json(path, "catalog")
    if not isinstance(catalog, Mapping):
        raise config_error(f"The catalog file {path} must hold a JSON object; it holds {_kind_of(catalog)}.")
    try:
        return ConfiguredAirbyteCatalogSerializer.load(catalog)
    except (ValueError, TypeError) as error:
        raise config_error(f"The catalog file {path} is not a configured Airbyte catalog: {_summary(error)}") from None


def read_state_file(path: str) -> list[AirbyteStateMessage]:
    state = read_json(path, "state")
    if not state:
        return []
    if isinstance(state, Mapping) and "type" not in state:
        return _from_legacy(state, path)
    messages = state if isinstance(state, list) else [state]
    result: list[AirbyteStateMessage] = []
    for message in messages:
        result.extend(_from_message(message, path))
    return result


def _from_message(message: Any, path: str) -> list[AirbyteStateMessage]:
    if not isinstance(message, Mapping):
        raise config_error(f"The state file {path} holds {_kind_of(message)} where a state message is expected.")
    kind = message.get("type")
    if kind == "GLOBAL":
        stream_states = (message.get("global") or {}).get("stream_states") or []
        return [_load(path, {"type": "STREAM", "stream": each}) for each in stream_states]
    if kind == "LEGACY" or (kind is None and "data" in message):
        return _from_legacy(message.get("data") or {}, path)
    if kind in ("STREAM", None):
        return [_load(path, {**message, "type": "STREAM"})]
    raise config_error(
        f"The state file {path} holds a state message of type {kind!r}; this connector reads STREAM, GLOBAL and "
        "LEGACY states."
    )


def _from_legacy(states: Mapping[str, Any], path: str) -> list[AirbyteStateMessage]:
    result = []
    for name, stream_state in states.items():
        if not isinstance(stream_state, Mapping):
            raise config_error(
                f"The state file {path} gives stream {name!r} the state {_kind_of(stream_state)}; a stream's state "
                'is a JSON object such as {"updatedAt": 1704067200000}.'
            )
        stream = {"stream_descriptor": {"name": name}, "stream_state": dict(stream_state)}
        result.append(_load(path, {"type": "STREAM", "stream": stream}))
    return result


def _load(path: str, message: Mapping[str, Any]) -> AirbyteStateMessage:
    try:
        return AirbyteStateMessageSerializer.load(message)
    except (ValueError, TypeError) as error:
        raise config_error(f"The state file {path} is not a valid Airbyte state: {_summary(error)}") from None


def _kind_of(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(type(value), "a number")


def _summary(error: Exception) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:300] + "…"
