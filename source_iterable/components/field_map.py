"""One record per entry of a JSON object, for `users/getFields`' `{"fields": {name: type}}`."""

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import dpath
import requests
from airbyte_cdk.sources.declarative.decoders import Decoder, JsonDecoder
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor


@dataclass
class FieldMapExtractor(RecordExtractor):
    """Yield `{key_name: key, value_name: value}` for each entry of the object at `field_path`.

    Not DpathExtractor: it yields an object as one record, never one record per entry.
    """

    field_path: list[str]
    parameters: InitVar[Mapping[str, Any]]
    key_name: str = "name"
    value_name: str = "type"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        self._decoder: Decoder = JsonDecoder(parameters={})

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        for body in self._decoder.decode(response):
            entries = dpath.get(body, self.field_path, default={})
            if isinstance(entries, Mapping):
                for key, value in entries.items():
                    yield {self.key_name: key, self.value_name: value}
