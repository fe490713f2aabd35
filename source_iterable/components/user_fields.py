"""The users schema, built at discover time from the project's own fields (`GET users/getFields`)."""

import copy
import logging
from collections.abc import Mapping
from dataclasses import InitVar, dataclass
from typing import Any

from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.declarative.schema.schema_loader import SchemaLoader

from source_iterable.components.renaming import (
    UserFieldsUnavailable,
    case_collision_renames,
    fetch_user_fields,
    split_path,
)

logger = logging.getLogger("airbyte")

# Iterable field type -> JSON schema. `nested` is a list of objects (its children describe the items).
TYPE_SCHEMAS: dict[str, dict[str, Any]] = {
    "string": {"type": ["null", "string"]},
    "long": {"type": ["null", "integer"]},
    "double": {"type": ["null", "number"]},
    "boolean": {"type": ["null", "boolean"]},
    "date": {"type": ["null", "string"], "format": "date-time"},
    "object": {"type": ["null", "object"], "additionalProperties": True, "properties": {}},
    "nested": {
        "type": ["null", "array"],
        "items": {"type": ["null", "object"], "additionalProperties": True, "properties": {}},
    },
    "geo_location": {
        "type": ["null", "object"],
        "additionalProperties": True,
        "properties": {"lat": {"type": ["null", "number"]}, "lon": {"type": ["null", "number"]}},
    },
}
_CONTAINER = {"type": ["null", "object"], "additionalProperties": True, "properties": {}}


def _properties_of(node: dict[str, Any]) -> dict[str, Any]:
    """Where the children of a schema node go: its items' properties for a list, else its own properties."""
    holder = node.get("items", node)
    return holder.setdefault("properties", {})  # type: ignore[no-any-return]


def user_fields_schema(base_properties: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """The users schema: `base_properties` plus getFields as nested properties, collisions renamed as in records.

    A path's parents are created as plain objects when getFields does not list them; an unknown Iterable type
    is declared without a `type` (any value). Fields already in `base_properties` keep that declaration.
    """
    schema: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "additionalProperties": True,
        "properties": copy.deepcopy(dict(base_properties)),
    }
    renames = case_collision_renames(fields)
    typed = {renames.get(path, path): kind for path, kind in fields.items()}
    for path in sorted(typed, key=lambda name: (name.count("."), name)):
        segments = split_path(path)
        node = schema
        for segment in segments[:-1]:
            node = _properties_of(node).setdefault(segment, copy.deepcopy(_CONTAINER))
        properties = _properties_of(node)
        if segments[-1] not in properties:
            properties[segments[-1]] = copy.deepcopy(TYPE_SCHEMAS.get(typed[path], {}))
    return schema


@dataclass
class UserFieldsSchemaLoader(SchemaLoader):
    """The users JSON schema: the manifest's `base_properties` plus every field `users/getFields` lists, typed.

    Not `DynamicSchemaLoader`: it expects a list of `{name, type}` records (getFields returns one map), cannot nest
    dotted paths, and cannot apply the case-collision rename (`renaming.case_collision_renames`), which must match
    the records exactly. `requester` is the manifest's getFields requester (auth, budget, retries).
    When getFields gives no field list, the schema is `base_properties` alone (extra fields are allowed, so records
    keep the project's fields) and a warning names the cause: one helper endpoint must not fail every stream's
    discover.
    """

    requester: Requester
    base_properties: Mapping[str, Any]
    parameters: InitVar[Mapping[str, Any]]

    def get_json_schema(self) -> Mapping[str, Any]:
        try:
            fields = fetch_user_fields(self.requester)
        except UserFieldsUnavailable as cause:
            logger.warning(
                f"Iterable's users/getFields failed ({cause}): the users stream is declared with its fixed fields "
                "only; the project's own user fields are still read, as fields the schema does not declare."
            )
            fields = {}
        return user_fields_schema(self.base_properties, fields)
