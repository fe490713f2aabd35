"""Schemas and emulator against Iterable's own API definition (`resource/iterable-api-swagger.json`, a copy of the
project's shared `iterable-api-swagger.json`).

1. Every field the definition gives a REST stream's response items is declared in that stream's manifest schema,
   with a type the connector's values fit: timestamps (a date-time string, epoch milliseconds or ISO-8601 in the
   definition) are RFC 3339 strings in ours, integers integers, nested objects walked field by field.
2. The emulator serves each of those fields with the definition's type (templates in both forms real projects show).
"""

import copy
import csv
import io
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from airbyte_cdk.sources.declarative.parsers.manifest_component_transformer import ManifestComponentTransformer
from airbyte_cdk.sources.declarative.parsers.manifest_reference_resolver import ManifestReferenceResolver

from integration_tests.emulator import Dataset, Emulator
from source_iterable.source import load_manifest

DEFINITION = json.loads((Path(__file__).parent / "resource" / "iterable-api-swagger.json").read_text())

# Each REST stream whose records are the items of a JSON response: (path, records key, item definition).
# Not here: list_users and campaigns_metrics (text and CSV bodies), user_fields (one record per key of `fields`).
STREAMS: dict[str, tuple[str, str, str]] = {
    "campaigns": ("/api/campaigns", "campaigns", "CampaignDetails"),
    "channels": ("/api/channels", "channels", "ChannelDetails"),
    "lists": ("/api/lists", "lists", "ListDetails"),
    "message_types": ("/api/messageTypes", "messageTypes", "MessageTypeDetails"),
    "templates": ("/api/templates", "templates", "ApiTemplateResponse"),
    "catalogs": ("/api/catalogs", "catalogNames", "CatalogName"),
    "catalog_items": ("/api/catalogs/{catalogName}/items", "catalogItemsWithProperties", "CatalogItemWithProperties"),
    "journeys": ("/api/journeys", "journeys", "JourneyDetails"),
    "snippets": ("/api/snippets", "snippets", "SnippetResponse"),
    "webhooks": ("/api/webhooks", "webhooks", "ApiWebhookResponse"),
    "metadata": ("/api/metadata/{table}/{key}", "", "MetadataWithProperties"),
    # template content: the body is the record (one per template of the medium)
    "email_templates": ("/api/templates/email/get", "", "ApiEmailTemplateModel"),
    "push_templates": ("/api/templates/push/get", "", "ApiPushTemplateModel"),
    "sms_templates": ("/api/templates/sms/get", "", "ApiSMSTemplateModel"),
    "in_app_templates": ("/api/templates/inapp/get", "", "ApiInAppTemplateModel"),
    "embedded_templates": ("/api/templates/embedded/get", "", "ApiEmbeddedTemplateModel"),
}
# The messageMedium each template content stream lists its templates with.
CONTENT_MEDIA = {
    "email_templates": "Email",
    "push_templates": "Push",
    "sms_templates": "SMS",
    "in_app_templates": "InApp",
    "embedded_templates": "Embedded",
}

# Where the definition's type is an artefact of its generator and every account sends something narrower:
# (stream, field path) -> why the manifest's type is right.
NARROWER_THAN_DEFINED = {
    ("campaigns", "id"): "`number` in the definition; campaign ids are integers (and the stream's primary key)",
    ("campaigns", "recurringCampaignId"): "`number`; a campaign id",
    ("campaigns", "templateId"): "`number`; a template id (int64 in ApiTemplateResponse)",
    ("campaigns", "workflowId"): "`number`; a journey id",
    ("campaigns", "sendSize"): "`number`; a count of recipients",
    ("journeys", "id"): "`number`; a journey id (the stream's primary key)",
    ("journeys", "draft.id"): "`number`; a journey id",
    ("snippets", "id"): "`object` in the definition; snippet ids are integers, and strings in older projects",
    ("webhooks", "channelIds[]"): "`object` items in the definition; channel ids are int64 (ChannelDetails.id)",
    ("webhooks", "messageTypeIds[]"): "`object` items; message type ids are int64 (MessageTypeDetails.id)",
    ("email_templates", "messageTypeId"): "`number`; a message type id (int64 in ApiTemplateResponse)",
    ("email_templates", "dataFeedId"): "`number`; a data feed id",
    ("email_templates", "dataFeedIds[]"): "`number` items; data feed ids",
    ("email_templates", "cacheDataFeed"): "`object`; a flag (boolean in ApiPushTemplateModel and Iterable's client)",
    ("email_templates", "mergeDataFeedContext"): "`object`; a flag (boolean in ApiPushTemplateModel)",
    ("push_templates", "campaignId"): "`object`; a campaign id (int32 in ApiInAppTemplateModel)",
    ("push_templates", "dataFeedIds[]"): "`number` items; data feed ids",
    ("sms_templates", "campaignId"): "`object`; a campaign id (int32 in ApiInAppTemplateModel)",
    ("embedded_templates", "placementId"): "`object`; a placement id (integer in embedded export events)",
}


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = DEFINITION["definitions"][schema["$ref"].split("/")[-1]]
    return schema


def _is_timestamp(schema: Mapping[str, Any]) -> bool:
    """A date-time string, or a timestamp the description says is epoch milliseconds or ISO-8601."""
    description = schema.get("description", "").lower()
    return schema.get("format") == "date-time" or "timestamp" in description


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def _fields(definition: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every (dotted path, definition schema) of an item, nested objects included; array items as `path[]`."""
    for name, schema in definition.get("properties", {}).items():
        path = f"{prefix}{name}"
        yield path, schema
        target = _resolve(schema)
        if "object" in _types(target) and "properties" in target and "JsObject" not in schema.get("$ref", ""):
            yield from _fields(target, f"{path}.")
        if "array" in _types(target) and "items" in target:
            yield f"{path}[]", target["items"]


def _declared(schema: Mapping[str, Any], path: str) -> Mapping[str, Any] | None:
    node: Mapping[str, Any] | None = schema
    for segment in path.split("."):
        if node is None:
            return None
        is_item = segment.endswith("[]")
        node = node.get("properties", {}).get(segment.removesuffix("[]"))
        if node is not None and is_item:
            node = node.get("items")
    return node


def _fits(defined: Mapping[str, Any], ours: Mapping[str, Any], normalised: bool) -> bool:
    """Whether values of `defined`, after the connector's normalisation, fit `ours`. A timestamp (by the definition,
    or one the stream normalises, like metadata's int64 `lastModified`) must be an RFC 3339 string."""
    defined = _resolve(defined)
    kinds = _types(ours)
    if _is_timestamp(defined) or normalised:
        return (
            kinds == {"string", "null"}
            and ours.get("format") == "date-time"
            and defined["type"] in ("integer", "string")
        )
    wanted = defined.get("type")
    return {
        "integer": "integer" in kinds,
        "number": "number" in kinds,
        "string": "string" in kinds,
        "boolean": "boolean" in kinds,
        "array": "array" in kinds,
        "object": "object" in kinds or not kinds,
    }[wanted]


def _definition_fields() -> list[tuple[str, str, Mapping[str, Any]]]:
    return [
        (stream, path, schema)
        for stream, (_, _, item) in STREAMS.items()
        for path, schema in _fields(DEFINITION["definitions"][item])
    ]


@pytest.mark.parametrize(
    "stream, path, defined", [pytest.param(*case, id=f"{case[0]}.{case[1]}") for case in _definition_fields()]
)
def test_every_field_of_the_definition_is_declared_with_a_type_its_values_fit(
    stream: str, path: str, defined: Mapping[str, Any]
) -> None:
    ours = _declared(SCHEMAS[stream], path)
    assert ours is not None, f"{stream} does not declare {path}"
    if (stream, path) in NARROWER_THAN_DEFINED:
        assert _types(ours) & {"integer", "string", "boolean"}, NARROWER_THAN_DEFINED[stream, path]
        return
    normalised = path in TIMESTAMP_FIELDS[stream]
    assert _fits(defined, ours, normalised), (stream, path, dict(_resolve(defined)), dict(ours))


def test_every_stream_of_the_map_names_a_response_of_the_definition() -> None:
    responses = {
        path: DEFINITION["paths"][path]["get"]["responses"]["200"]["schema"]["$ref"].split("/")[-1]
        for path, _, _ in STREAMS.values()
    }
    for stream, (path, key, item) in STREAMS.items():
        response = DEFINITION["definitions"][responses[path]]
        if key:
            assert response["properties"][key]["items"]["$ref"].endswith(f"/{item}"), stream
        else:
            assert responses[path] == item, stream


def test_the_timestamp_fields_a_stream_normalises_are_the_ones_its_schema_declares_date_time() -> None:
    """rest_timestamps rewrites exactly the fields the schema promises as date-time strings, and every timestamp of
    the definition is among them."""
    for stream, (_, _, item) in STREAMS.items():
        schema = SCHEMAS[stream]
        declared = {path for path, node in _fields(schema) if node.get("format") == "date-time"}
        defined = {path for path, node in _fields(DEFINITION["definitions"][item]) if _is_timestamp(_resolve(node))}
        assert TIMESTAMP_FIELDS[stream] == declared, stream
        assert defined <= TIMESTAMP_FIELDS[stream], stream


def _timestamp_fields() -> dict[str, set[str]]:
    """Each stream's `timestamp_fields`, as its TimestampFields transformation receives them from $parameters."""
    manifest = ManifestReferenceResolver().preprocess_manifest(copy.deepcopy(load_manifest()))
    manifest = ManifestComponentTransformer().propagate_types_and_parameters("", manifest, {})
    found: dict[str, set[str]] = {}
    for entry in manifest["streams"]:
        for stream in entry["streams"] if entry.get("type") == "ConditionalStreams" else [entry]:
            for transformation in stream.get("transformations", []):
                if transformation.get("class_name") == "source_iterable.components.TimestampFields":
                    found[stream["name"]] = set(transformation.get("timestamp_fields", []))
    return found


TIMESTAMP_FIELDS = _timestamp_fields()
# The manifest's schemas with their `$ref`s resolved, as the streams declare them.
SCHEMAS: dict[str, Any] = ManifestReferenceResolver().preprocess_manifest(copy.deepcopy(load_manifest()))["schemas"]


# ---------------------------------------------------------------- the emulator serves the definition's types
def _value_fits(defined: Mapping[str, Any], value: Any) -> bool:
    defined = _resolve(defined)
    if value is None:
        return True
    return {
        "integer": type(value) is int,
        "number": type(value) in (int, float),
        "string": type(value) is str,
        "boolean": type(value) is bool,
        "array": type(value) is list,
        "object": True,
    }[defined["type"]]


def _served_items(emulator: Emulator, stream: str) -> list[dict[str, Any]]:
    def get(path: str, **params: Any) -> Any:
        response = requests.get(
            f"{emulator.url}{path}",
            params={"pageSize": 50, **params},
            headers={"Api-Key": emulator.api_key},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return body.get("params", body)

    path, key, _ = STREAMS[stream]
    if stream == "catalog_items":
        return [item for name in emulator.dataset.catalog_items for item in get(path.format(catalogName=name))[key]]
    if stream == "metadata":
        return [get(f"/api/metadata/{t}/{k}") for t, keys in emulator.dataset.metadata_tables.items() for k in keys]
    if stream in CONTENT_MEDIA:
        templates = emulator.dataset.templates_with_content(CONTENT_MEDIA[stream])
        return [get(path, templateId=template["templateId"]) for template in templates]
    return get(path)[key]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def definition_emulator() -> Iterator[Emulator]:
    with Emulator(Dataset(seed=7), rate_limits={}) as emulator:
        yield emulator


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_the_emulator_serves_every_field_with_the_type_of_the_definition(
    definition_emulator: Emulator, stream: str
) -> None:
    definition = DEFINITION["definitions"][STREAMS[stream][2]]
    items = _served_items(definition_emulator, stream)
    assert items, stream
    for item in items:
        for name, value in item.items():
            if name in definition["properties"] and (stream, name) not in NARROWER_THAN_DEFINED:
                assert _value_fits(definition["properties"][name], value), (stream, name, value)


def test_templates_in_the_definitions_form_carry_iso_strings_and_in_real_accounts_form_epoch_ms() -> None:
    as_defined, as_seen = Dataset(seed=7), Dataset(seed=7, template_times="epoch_ms")
    assert {type(t["updatedAt"]) for t in as_defined.templates} == {str}
    assert {type(t["updatedAt"]) for t in as_seen.templates} == {int}
    assert as_defined.templates[0]["updatedAt"].endswith("Z")


def test_the_emulator_serves_experiments_metrics_as_the_definition_describes(definition_emulator: Emulator) -> None:
    """`GET experiments/metrics`: the parameters the definition lists (campaignId and experimentId repeatable,
    startDateTime, endDateTime), `text/csv`, an ExperimentMetricsResponse (a header, then rows of as many cells),
    with the columns the connector keys its rows on."""
    operation = DEFINITION["paths"]["/api/experiments/metrics"]["get"]
    multi = {p["name"] for p in operation["parameters"] if p.get("collectionFormat") == "multi"}
    single = {p["name"] for p in operation["parameters"]} - multi
    dataset = definition_emulator.dataset
    params: dict[str, list[str] | str] = {
        "campaignId": [str(campaign["id"]) for campaign in dataset.campaigns],
        "experimentId": [str(dataset.experiments[0]["experimentId"])],
        "startDateTime": "2025-01-01",
        "endDateTime": "2025-12-31",
    }
    assert (set(params) - single, set(params) - multi) == (multi, single)

    response = requests.get(
        f"{definition_emulator.url}/api/experiments/metrics",
        params=params,
        headers={"Api-Key": definition_emulator.api_key},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.headers["Content-Type"].split(";")[0] in operation["produces"]
    assert set(_resolve(operation["responses"]["200"]["schema"])["properties"]) == {"headers", "rows"}
    header, *rows = list(csv.reader(io.StringIO(response.text)))
    assert {"campaignId", "experimentId", "templateId"} <= set(header)
    assert [len(row) for row in rows] == [len(header)] * dataset.object_counts()["experiments_metrics"]


@pytest.mark.parametrize(
    "params, status",
    [
        pytest.param({}, 200, id="no-parameter-is-required"),
        pytest.param({"campaignId": ["500002"]}, 200, id="a-campaign-without-experiments"),
        pytest.param({"campaignId": ["abc"]}, 400, id="an-id-that-is-not-a-number"),
    ],
)
def test_the_emulator_answers_experiments_metrics_requests_as_the_definition_says(
    definition_emulator: Emulator, params: dict[str, list[str]], status: int
) -> None:
    operation = DEFINITION["paths"]["/api/experiments/metrics"]["get"]
    assert not [p["name"] for p in operation["parameters"] if p.get("required")]
    assert str(status) in operation["responses"]

    response = requests.get(
        f"{definition_emulator.url}/api/experiments/metrics",
        params=params,
        headers={"Api-Key": definition_emulator.api_key},
        timeout=10,
    )

    assert response.status_code == status
