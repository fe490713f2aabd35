"""Renaming of user fields whose names collide case-insensitively, identical in the schema and in the records."""

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

from airbyte_cdk.sources.declarative.requesters.requester import Requester
from airbyte_cdk.sources.declarative.transformations.transformation import (
    RecordTransformation,
)
from airbyte_cdk.sources.types import Config, StreamSlice, StreamState
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

Path = tuple[str, ...]

logger = logging.getLogger("airbyte")


def case_collision_renames(paths: Iterable[str]) -> dict[str, str]:
    """Map each colliding dotted field path to its new name; paths that do not collide are absent.

    The rule: paths are grouped by their lower-cased form. In a group of two or more, the path with the fewest
    upper-case letters (ties: the smallest in code-point order) keeps its name; the others, in that same order,
    become `"_" * k + kept` for k = 1, 2, … Examples from Iterable projects:
    `Industry` (beside `industry`) -> `_industry`; `offers.Intro APR` (beside `offers.intro APR`) -> `_offers.intro APR`.
    """
    groups: dict[str, list[str]] = {}
    for path in paths:
        groups.setdefault(path.lower(), []).append(path)
    renames: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        ordered = sorted(set(members), key=lambda name: (sum(1 for char in name if char.isupper()), name))
        kept = ordered[0]
        for rank, path in enumerate(ordered[1:], start=1):
            renames[path] = "_" * rank + kept
    return renames


def split_path(path: str) -> Path:
    """A getFields path names nested objects: `offers.intro APR` is `record["offers"]["intro APR"]`."""
    return tuple(path.split("."))


def move_field(record: dict[str, Any], source: Path, target: Path) -> None:
    """Move the value at `source` to `target` (intermediate objects created as needed); no-op when absent.

    Only objects are walked: a path through a list (a `nested` field) is left in place.
    """
    parent: Any = record
    for segment in source[:-1]:
        parent = parent.get(segment) if type(parent) is dict else None
        if parent is None:
            return
    if type(parent) is not dict or source[-1] not in parent:
        return
    value = parent.pop(source[-1])
    destination = record
    for segment in target[:-1]:
        child = destination.get(segment)
        if type(child) is not dict:
            child = {}
            destination[segment] = child
        destination = child
    destination[target[-1]] = value


class UserFieldsUnavailable(Exception):
    """`users/getFields` gave no field list; the message names what it answered instead (status, Iterable's msg)."""


def fetch_user_fields(requester: Requester) -> dict[str, str]:
    """`GET users/getFields` -> `{dotted path: Iterable type}` (through the requester: auth, budget, retries).

    Raises UserFieldsUnavailable, naming the cause, when the answer has no `fields` object: an error status the
    requester passes through (401/403), one it gave up on (4xx, 5xx after retries, connection errors), a body
    that is not JSON, or a 200 without `fields`.
    """
    try:
        response = requester.send_request()
    except AirbyteTracedException as error:
        raise UserFieldsUnavailable(error.message or str(error)) from error
    if response is None:
        raise UserFieldsUnavailable("no response")
    try:
        body = response.json()
    except ValueError:
        raise UserFieldsUnavailable(f"HTTP {response.status_code} with a body that is not JSON") from None
    if response.status_code != 200:
        code, msg = (body.get("code"), body.get("msg")) if isinstance(body, dict) else (None, None)
        raise UserFieldsUnavailable(f"HTTP {response.status_code} ({code}: {msg})")
    fields = body.get("fields") if isinstance(body, dict) else None
    if not isinstance(fields, dict):
        raise UserFieldsUnavailable("HTTP 200 without a `fields` object")
    return {str(path): str(kind) for path, kind in fields.items()}


@dataclass
class CaseCollisionRenamer(RecordTransformation):
    """Rename, in each user record, the fields that `case_collision_renames` renames in the users schema.

    Not `KeysReplace`/`KeysToLower`: a collision depends on the project's whole field list, not on one record (a
    profile carrying only `Industry` must still land in `_industry`, the column the schema declares). The field list
    is `users/getFields` through `requester`, read once per process on the first record (the schema loader reads
    the same endpoint with the same rule, so schema and records agree). Parents are moved before their children.
    """

    requester: Requester
    parameters: InitVar[Mapping[str, Any]]
    _moves: list[tuple[Path, Path]] | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        pass

    def _plan(self) -> list[tuple[Path, Path]]:
        with self._lock:
            if self._moves is None:
                try:
                    renames = case_collision_renames(fetch_user_fields(self.requester))
                except UserFieldsUnavailable as cause:
                    logger.warning(
                        f"Iterable's users/getFields failed ({cause}): user fields whose names differ only in case "
                        "are not renamed in this sync; every field is kept under the name Iterable sends."
                    )
                    renames = {}
                self._moves = sorted(
                    ((split_path(old), split_path(new)) for old, new in renames.items()), key=lambda move: len(move[0])
                )
            return self._moves

    def transform(
        self,
        record: dict[str, Any],
        config: Config | None = None,
        stream_state: StreamState | None = None,
        stream_slice: StreamSlice | None = None,
    ) -> None:
        moves = self._moves if self._moves is not None else self._plan()
        for source, target in moves:
            move_field(record, source, target)
