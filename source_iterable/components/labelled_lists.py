"""One record per string of the lists in a JSON body, labelled by the key each list came under: the forget lists."""

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import InitVar, dataclass
from typing import Any

import requests
from airbyte_cdk.sources.declarative.extractors.record_extractor import RecordExtractor

from source_iterable.components.rest_body import (
    error_envelope,
    excerpt,
    is_error_envelope,
    is_list_of_strings,
    json_body,
    unexpected_body,
)


@dataclass
class LabelledListsExtractor(RecordExtractor):
    """Yield `{value_name: item, label_name: lists[key]}` for each string of the list under each `lists` key found.

    users/forgotten answers `{"hashedEmails": [sha256, …]}`, users/forgottenUserIds `{"hashedUserIds": […]}`, and a
    hybrid project's `forgotten_users` reads both: the label comes from the key the body put each list under.
    Not StrictRecordsExtractor: its records are the list's items, which must be objects (these are strings), and its
    `field_path` is one fixed key per stream (it cannot see which endpoint a partition asked). A 2xx body that is not
    JSON with at least one of the keys, each holding a list of strings, fails the stream (rest_body.py).
    """

    lists: Mapping[str, str]
    parameters: InitVar[Mapping[str, Any]]
    value_name: str = "value"
    label_name: str = "label"

    def extract_records(self, response: requests.Response) -> Iterable[MutableMapping[Any, Any]]:
        expected = "JSON with " + " or ".join(f"'{key}'" for key in self.lists)
        body = json_body(response, expected)
        if body is None:
            return
        found = {key: body[key] for key in self.lists if key in body} if isinstance(body, dict) else {}
        if not found or not all(is_list_of_strings(items) for items in found.values()):
            if is_error_envelope(body):
                what = error_envelope(body)
            elif not found:
                what = f"JSON without it: {excerpt(response.content)}"
            else:
                what = f"JSON whose list is not a list of strings: {excerpt(response.content)}"
            raise unexpected_body(response, what, expected)
        for key, items in found.items():
            label = self.lists[key]
            for item in items:
                yield {self.value_name: item, self.label_name: label}
