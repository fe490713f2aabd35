"""spec_violation: the first way a config breaks the connector's spec, as one sentence naming the field."""

from typing import Any

import pytest

from source_iterable.config_errors import spec_violation
from source_iterable.source import load_manifest

SPEC = load_manifest()["spec"]["connection_specification"]
VALID = {"api_key": "secret-key", "start_date": "2024-01-01"}


@pytest.mark.parametrize(
    "change, message",
    [
        pytest.param({"region": "APAC"}, "Config field 'region' must be one of US, EU; got 'APAC'.", id="region"),
        pytest.param({"window_days": 400}, "Config field 'window_days' must be at most 365; got 400.", id="too-big"),
        pytest.param({"window_days": 0}, "Config field 'window_days' must be at least 1; got 0.", id="too-small"),
        pytest.param(
            {"lookback_window": "60"}, "Config field 'lookback_window' must be an integer; got '60'.", id="type"
        ),
        pytest.param(
            {"project_type": "Email"},
            "Config field 'project_type' must be one of email, userId, hybrid; got 'Email'.",
            id="project-type",
        ),
        pytest.param(
            {"campaign_metrics_lookback_days": -1},
            "Config field 'campaign_metrics_lookback_days' must be at least 0; got -1.",
            id="metrics-lookback-negative",
        ),
        pytest.param(
            {"campaign_metrics_daily_days": 0},
            "Config field 'campaign_metrics_daily_days' must be at least 1; got 0.",
            id="metrics-daily-days-zero",
        ),
        pytest.param(
            {"campaign_metrics_daily_days": "30"},
            "Config field 'campaign_metrics_daily_days' must be an integer; got '30'.",
            id="metrics-daily-days-type",
        ),
        pytest.param({"api_key": 12345}, "Config field 'api_key' must be a string.", id="secret-never-quoted"),
    ],
)
def test_given_a_field_breaking_the_spec_then_the_sentence_names_it_and_the_expectation(
    change: dict[str, Any], message: str
) -> None:
    assert spec_violation({**VALID, **change}, SPEC) == message


def test_given_a_missing_required_field_then_it_is_named() -> None:
    assert spec_violation({"start_date": "2024-01-01"}, SPEC) == "Config field 'api_key' is required."


def test_given_a_conforming_config_then_there_is_no_violation() -> None:
    assert (
        spec_violation(
            {
                **VALID,
                "region": "EU",
                "window_days": 7,
                "project_type": "hybrid",
                "campaign_metrics_lookback_days": 0,
                "campaign_metrics_daily_days": 365,
            },
            SPEC,
        )
        is None
    )
