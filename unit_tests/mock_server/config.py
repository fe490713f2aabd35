"""Connector configs for the mock-server tests."""

from typing import Any

API_KEY = "test-server-side-key-0123"
US_BASE = "https://api.iterable.com"
EU_BASE = "https://api.eu.iterable.com"


class ConfigBuilder:
    """A valid config in the shape existing Airbyte users have (`api_key`, `start_date` with a time, US)."""

    def __init__(self) -> None:
        self._config: dict[str, Any] = {
            "api_key": API_KEY,
            "start_date": "2024-01-01T00:00:00Z",
        }

    def with_start_date(self, start_date: Any) -> "ConfigBuilder":
        self._config["start_date"] = start_date
        return self

    def with_end_date(self, end_date: Any) -> "ConfigBuilder":
        self._config["end_date"] = end_date
        return self

    def with_region(self, region: str) -> "ConfigBuilder":
        self._config["region"] = region
        return self

    def with_api_base_url(self, url: str) -> "ConfigBuilder":
        self._config["api_base_url"] = url
        return self

    def with_project_type(self, project_type: str) -> "ConfigBuilder":
        self._config["project_type"] = project_type
        return self

    def with_lookback_window(self, minutes: int) -> "ConfigBuilder":
        self._config["lookback_window"] = minutes
        return self

    def build(self) -> dict[str, Any]:
        return dict(self._config)


def a_config() -> ConfigBuilder:
    return ConfigBuilder()
