"""Validation strategies for the config fields, run by `spec.config_normalization_rules.validations`."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from airbyte_cdk.sources.declarative.validators import ValidationStrategy

from source_iterable.config_errors import config_error
from source_iterable.hosts import is_loopback

DATE_FORMS = "a date 2024-01-01 or a UTC date-time 2024-01-01T00:00:00Z"
_DATE_OR_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?Z)?$")


def parse_utc(value: str) -> datetime:
    """Parse a date (midnight UTC) or a `...Z` date-time of the accepted forms; ValueError otherwise."""
    if not _DATE_OR_DATETIME.match(value):
        raise ValueError(value)
    if len(value) == 10:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    return datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class UtcDateValidation(ValidationStrategy):
    """Accept a config date as `2024-01-01` or `2024-01-01T00:00:00Z`; refuse garbage and, unless allowed, the future.

    Not ValidateAdheresToSchema: it JSON-decodes string values first (a date is not JSON) and its message names
    neither the field nor the accepted forms. Raises a config-error AirbyteTracedException rather than the
    ValueError of the interface, because `discover` and `read` report a plain ValueError as a system error.
    An empty string counts as "not set" (older configs write `end_date: ""`).
    """

    field_name: str
    allow_future: bool = False
    clock: Callable[[], datetime] = field(default=_utc_now)

    def validate(self, value: Any) -> None:
        if value in (None, ""):
            return
        if not isinstance(value, str):
            raise config_error(f"Config field '{self.field_name}' must be {DATE_FORMS}; got {value!r}.")
        try:
            moment = parse_utc(value)
        except ValueError:
            raise config_error(f"Config field '{self.field_name}' must be {DATE_FORMS}; got {value!r}.") from None
        if not self.allow_future and moment > self.clock():
            raise config_error(
                f"Config field '{self.field_name}' is in the future ({value}); use a date up to today (UTC)."
            )


@dataclass
class DateRangeValidation(ValidationStrategy):
    """Refuse an `end_date` that is not after `start_date`; the value is the derived `{start, end}` pair.

    The CDK's validators see one config value each, so config_normalization_rules derives this pair (both
    normalised to `YYYY-MM-DDTHH:MM:SSZ`) for the one check that needs both dates.
    """

    def validate(self, value: Any) -> None:
        if not isinstance(value, Mapping):
            return
        start, end = str(value.get("start")), str(value.get("end"))
        try:
            ordered = parse_utc(end) > parse_utc(start)
        except ValueError:
            return  # a malformed date is reported by UtcDateValidation, which runs first
        if not ordered:
            raise config_error(f"Config field 'end_date' ({end}) must be after 'start_date' ({start}).")


@dataclass
class ApiBaseUrlValidation(ValidationStrategy):
    """Accept `api_base_url` only over https, or over plain http to a loopback host (the local emulator), and
    only as scheme, host, port and path.

    The API key travels in every request's header, so plain http to any other host would expose it. A query or
    fragment would be silently dropped or glued to every endpoint's path, and user-info would send credentials of
    its own: each is refused by name.
    """

    field_name: str = "api_base_url"

    def validate(self, value: Any) -> None:
        if value in (None, ""):
            return
        parts = urlsplit(str(value).strip())
        for part, present in (
            ("a query (?…)", parts.query or "?" in str(value)),
            ("a fragment (#…)", parts.fragment or "#" in str(value)),
            ("user info (…@)", "@" in parts.netloc),
        ):
            if present:
                raise config_error(
                    f"Config field '{self.field_name}' must not contain {part}: give only the scheme, host and "
                    "optional port, for example https://api.iterable.com."
                )
        host = parts.hostname or ""
        if parts.scheme == "https" and host:
            return
        if parts.scheme == "http" and is_loopback(host):
            return
        raise config_error(
            f"Config field '{self.field_name}' must be an https:// URL, or http:// to a loopback host "
            f"(127.0.0.1, localhost, ::1); got {value!r}."
        )
