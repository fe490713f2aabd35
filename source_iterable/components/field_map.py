"""One record per entry of a JSON object, for `users/getFields`' `{"fields": {name: type}}`."""

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import dpath
import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor

from source_iterable.components.rest_body import error_envelope, excerpt, is_error_envelope, json_body, unexpected_body


@dataclass
class FieldMapExtractor(RecordExtractor):
    """Yield `{key_name: key, value_name: value}` for each entry of the object at `field_path`.

    Not DpathExtractor: it yields an object as one record, never one record per entry. A 2xx body that is not
    JSON with an object at `field_path` fails the stream (rest_body.py), as every REST page does.
    """

    field_path: list[str]
    parameters: InitVar[Mapping[str, Any]]
    key_name: str = "name"
    value_name: str = "type"

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        expected = f"JSON with '{self.field_path[-1]}'"
        body = json_body(response, expected)
        if body is None:
            return
        entries = dpath.get(body, self.field_path, default=None) if isinstance(body, dict) else None
        if not isinstance(entries, Mapping):
            what = error_envelope(body) if is_error_envelope(body) else f"JSON without it: {excerpt(response.content)}"
            raise unexpected_body(response, what, expected)
        for key, value in entries.items():
            yield {self.key_name: key, self.value_name: value}
