"""One record per entry of a JSON object, for `{name: type}` maps: users/getFields, catalogs' fieldMappings."""

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor

from source_iterable.components.rest_body import (
    MISSING,
    error_envelope,
    excerpt,
    find_path,
    is_error_envelope,
    is_list_of_strings,
    json_body,
    unexpected_body,
)


@dataclass
class FieldMapExtractor(RecordExtractor):
    """Yield `{key_name: key, value_name: value}` for each entry of the object at `field_path`, then
    `{key_name: name, value_name: None}` for each name of the list at `names_path` when one is given.

    users/getFields is `{"fields": {name: type}}`; catalogs/{name}/fieldMappings is `{"definedMappings": {name:
    type}, "undefinedFields": [name]}`, bare or wrapped in `{msg, code, params}` (a `**` in a path finds it at either
    depth). Not DpathExtractor: it yields an object as one record, never one record per entry. A 2xx body that is
    not JSON with an object at `field_path` (and a list of strings at `names_path`) fails the stream (rest_body.py),
    as every REST page does.
    """

    field_path: list[str]
    parameters: InitVar[Mapping[str, Any]]
    key_name: str = "name"
    value_name: str = "type"
    names_path: list[str] | None = None

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        keys = [self.field_path[-1], *(self.names_path[-1:] if self.names_path else [])]
        expected = "JSON with " + " and ".join(f"'{key}'" for key in keys)
        body = json_body(response, expected)
        if body is None:
            return
        entries = find_path(body, self.field_path)
        names = find_path(body, self.names_path) if self.names_path else []
        if not isinstance(entries, Mapping) or not is_list_of_strings(names):
            if is_error_envelope(body):
                what = error_envelope(body)
            elif entries is MISSING or names is MISSING:
                what = f"JSON without it: {excerpt(response.content)}"
            else:
                what = f"JSON of another shape: {excerpt(response.content)}"
            raise unexpected_body(response, what, expected)
        for key, value in entries.items():
            yield {self.key_name: key, self.value_name: value}
        for name in names:
            yield {self.key_name: name, self.value_name: None}
