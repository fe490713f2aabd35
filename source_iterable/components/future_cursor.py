"""A saved cursor later than now is read as now, with a warning."""

import logging
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass
from datetime import UTC, datetime
from typing import Any

from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.declarative.migrations.state_migration import StateMigration
from airbyte_cdk.sources.declarative.models.declarative_component_schema import DeclarativeStream
from airbyte_cdk.sources.types import Config

LOGGER = logging.getLogger("airbyte")
_PARSER = DatetimeParser()


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class FutureCursorAsNow(StateMigration):
    """Replace a cursor value later than now (a clock that was ahead, a hand-edited state) with now, and warn.

    Not the CDK's cursor: a state after its end yields no slice, so the stream read nothing and kept the future
    state, sync after sync (issue 16): running campaigns, whose numbers change on every sync whatever the state
    says, were not read again until the clock caught up. The cursor's field and `datetime_format` are read from
    the stream this migration is declared on (the CDK passes it as `declarative_stream`).
    """

    declarative_stream: DeclarativeStream
    config: Config
    parameters: InitVar[Mapping[str, Any]]
    clock: Callable[[], datetime] = _utc_now

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        incremental = self.declarative_stream.incremental_sync
        self._field = str(getattr(incremental, "cursor_field", ""))
        self._format = str(getattr(incremental, "datetime_format", ""))

    def should_migrate(self, stream_state: Mapping[str, Any]) -> bool:
        value = stream_state.get(self._field)
        if not isinstance(value, str):
            return False
        try:
            moment = _PARSER.parse(value, self._format)
        except ValueError:
            return False
        return moment > self.clock()

    def migrate(self, stream_state: Mapping[str, Any]) -> Mapping[str, Any]:
        now = _PARSER.format(self.clock(), self._format)
        LOGGER.warning(
            f"Stream {self.declarative_stream.name}: the state's {self._field} {stream_state[self._field]} is in the "
            f"future (a clock that was ahead, or a hand-edited state); it is read as now, {now}."
        )
        return {**stream_state, self._field: now}
