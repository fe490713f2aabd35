"""The backfill benchmark's arithmetic (`python -m bench.backfill`): which streams it reads, what a limit costs.

Only its pure parts: the benchmark itself runs the connector for minutes and its timings are never asserted.
"""

import pytest

from bench.backfill import export_streams, floor_seconds
from integration_tests.emulator.dataset import DATA_TYPES


def test_the_backfill_reads_every_export_stream_once_users_included():
    streams = export_streams()
    assert len(streams) == len(set(streams)) == len(DATA_TYPES) + 1
    assert {"email_send", "email_unsubscribe", "whatsapp_usage_info", "users"} <= set(streams)


@pytest.mark.parametrize(
    "requests, limit, seconds",
    [
        pytest.param(0, (4, 60), 0, id="none"),
        pytest.param(4, (4, 60), 0, id="one-burst"),
        pytest.param(5, (4, 60), 60, id="fifth-waits-a-minute"),
        pytest.param(676, (4, 60), 168 * 60, id="a-year-of-52-streams-at-30-day-windows"),
        pytest.param(1, (1, 1), 0, id="one-job-call"),
        pytest.param(300, (1, 1), 299, id="job-calls-one-per-second"),
    ],
)
def test_a_limit_costs_the_least_span_its_requests_can_arrive_in(requests, limit, seconds):
    assert floor_seconds(requests, limit) == seconds
