"""Every field an export stream emits (and every field of users) is declared in its discovered schema with a type
its values fit, for the emulator's data set, which carries what Iterable sends with each event type (attribution
on every message event and on attributed purchases and custom events, subscription details, system user fields)."""

import copy
import re
from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema
import pytest
from airbyte_cdk.models import ConfiguredAirbyteCatalog, ConfiguredAirbyteStream, DestinationSyncMode, SyncMode
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver
from airbyte_cdk.test.entrypoint_wrapper import discover, read

from integration_tests.emulator import Dataset, Emulator
from source_iterable.source import SourceIterable, load_manifest

RFC3339_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def export_streams() -> set[str]:
    """The manifest's export streams: those with a `data_type` (every event type, and users)."""
    manifest = ManifestReferenceResolver().preprocess_manifest(copy.deepcopy(load_manifest()))
    names = set()
    for entry in manifest["streams"]:
        for stream in entry["streams"] if entry.get("type") == "ConditionalStreams" else [entry]:
            parameters = stream.get("$parameters", {})
            if "data_type" in parameters:
                names.add(parameters["name"])
    return names


# Fields each stream must declare whatever the data set: what the issue lists from Airbyte's schemas made from real
# accounts, and the attribution fields Iterable sends with events.
ATTRIBUTION = {"campaignId", "templateId", "messageId", "contentId", "channelId", "messageTypeId", "messageBusId"}
REQUIRED = {
    "email_subscribe": {"emailListId", "signupSource", "profileUpdatedAt"},
    "email_unsubscribe": {"emailListId"},
    "email_click": {"contentId"},
    "email_send_skip": {"contentId", "transactionalData"},
    "users": {
        "devices",
        "ip",
        "itblInternal.emailDomain",
        "itblInternal.phoneCountry",
        "itblInternal.phoneType",
        "itblInternal.isUnknownUser",
        "itblDS",
    },
}


def problems(value: Any, schema: Mapping[str, Any], path: str) -> Iterator[str]:
    """Fields of `value` its schema does not declare (where the schema lists properties) and date-time fields that
    are not RFC 3339 UTC strings; objects declared without properties are free-form."""
    if value is None:
        return
    if schema.get("format") == "date-time" and not (isinstance(value, str) and RFC3339_UTC.fullmatch(value)):
        yield f"{path}: {value!r} is not an RFC 3339 UTC date-time"
    if isinstance(value, dict) and "properties" in schema:
        for key, child in value.items():
            if key not in schema["properties"]:
                yield f"{path}.{key} is not declared"
            else:
                yield from problems(child, schema["properties"][key], f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for item in value:
            yield from problems(item, schema["items"], f"{path}[]")


def declared_paths(schema: Mapping[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for name, child in schema.get("properties", {}).items():
        paths.add(prefix + name)
        paths |= declared_paths(child, f"{prefix}{name}.")
    return paths


@pytest.fixture(scope="module")
def export_read() -> Iterator[tuple[dict[str, Mapping[str, Any]], dict[str, list[Mapping[str, Any]]]]]:
    """Discovered schemas and the records of a full refresh of every export stream and users."""
    with Emulator(Dataset(seed=7), rate_limits={}) as emulator:
        config = {
            "api_key": emulator.api_key,
            "start_date": "2025-01-01T00:00:00Z",
            "end_date": "2026-01-01T00:00:00Z",
            "api_base_url": emulator.url,
            "window_days": 365,
            "export_requests_per_minute": 1000,
        }
        streams = [
            s
            for s in discover(SourceIterable(config=config), config).catalog.catalog.streams
            if s.name in export_streams()
        ]
        catalog = ConfiguredAirbyteCatalog(
            streams=[
                ConfiguredAirbyteStream(
                    stream=s, sync_mode=SyncMode.full_refresh, destination_sync_mode=DestinationSyncMode.overwrite
                )
                for s in streams
            ]
        )
        output = read(SourceIterable(catalog=catalog, config=config), config, catalog)
    records: dict[str, list[Mapping[str, Any]]] = {s.name: [] for s in streams}
    for message in output.records:
        records[message.record.stream].append(message.record.data)
    return {s.name: s.json_schema for s in streams}, records


def test_every_export_stream_emits_records(export_read: Any) -> None:
    schemas, records = export_read
    assert len(schemas) >= 50
    assert [name for name, emitted in records.items() if not emitted] == []


def test_every_emitted_field_is_declared_with_a_type_its_values_fit(export_read: Any) -> None:
    schemas, records = export_read
    found = []
    for name, emitted in records.items():
        for record in emitted:
            jsonschema.validate(record, schemas[name])
            found += [f"{name}: {problem}" for problem in problems(record, schemas[name], "")]
    assert not found, "\n".join(sorted(set(found)))


def test_every_event_schema_declares_the_attribution_fields(export_read: Any) -> None:
    schemas, _ = export_read
    missing = {name: ATTRIBUTION - declared_paths(schema) for name, schema in schemas.items() if name != "users"}
    assert {name: fields for name, fields in missing.items() if fields} == {}


@pytest.mark.parametrize("stream", sorted(REQUIRED))
def test_the_fields_peers_declare_from_real_accounts_are_declared(export_read: Any, stream: str) -> None:
    schemas, records = export_read
    assert REQUIRED[stream] <= declared_paths(schemas[stream])
    observed = set()
    for record in records[stream]:
        observed |= set(record) | {f"itblInternal.{key}" for key in record.get("itblInternal") or {}}
    # Only a hybrid project's unknown users (no email, no userId) carry isUnknownUser; this data set is email-based.
    assert REQUIRED[stream] - {"itblInternal.isUnknownUser"} <= observed, "the emulator sends them too"
