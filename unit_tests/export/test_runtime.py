"""SyncRuntime: one per sync, reached by the export retrievers while their source builds its streams; RefusedKey."""

from typing import Any

import pytest
from airbyte_cdk.models import FailureType
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.export.runtime import RefusedKey, SyncRuntime, current_runtime, sync_runtime
from source_iterable.source import SourceIterable
from unit_tests.mock_server.config import a_config


def test_given_a_runtime_made_current_then_the_lookup_returns_it_only_inside_the_block() -> None:
    runtime = SyncRuntime()
    with current_runtime(runtime):
        assert sync_runtime() is runtime
    assert sync_runtime() is not runtime


def test_every_export_stream_of_a_source_shares_its_runtime_and_another_source_has_its_own() -> None:
    config = a_config().build()
    first, second = SourceIterable(config=config), SourceIterable(config=config)
    firsts = {id(throttle) for stream in first.streams(config) if (throttle := stream_throttle(stream))}
    seconds = {id(throttle) for stream in second.streams(config) if (throttle := stream_throttle(stream))}
    assert firsts == {id(first.runtime.export_throttle(4, 60.0, 1.0))}
    assert seconds == {id(second.runtime.export_throttle(4, 60.0, 1.0))}
    assert firsts != seconds


def stream_throttle(stream: Any) -> Any:
    retriever = stream._stream_partition_generator._partition_factory._retriever
    sender = getattr(getattr(retriever, "data_json", None), "sender", None)
    return sender.throttle if sender is not None else None


class Probe:
    def __init__(self, refuses: bool) -> None:
        self.refuses = refuses
        self.sent = 0

    def send_request(self) -> None:
        self.sent += 1
        if self.refuses:
            raise AirbyteTracedException(message="key refused everywhere", failure_type=FailureType.config_error)


def test_given_a_key_that_reads_rest_then_a_refused_export_says_it_is_not_a_server_side_key() -> None:
    probe = Probe(refuses=False)
    refused = RefusedKey(probe)  # type: ignore[arg-type]
    first = refused.error("POST", "export/start", 401, "BadApiKey: Invalid API key")
    refused.error("POST", "export/start", 401, "BadApiKey: Invalid API key")
    assert first.message == (
        "Iterable refused POST export/start (BadApiKey: Invalid API key). Only a Server-side API key can use the "
        "export API; read-only and client-side (Mobile, JavaScript) keys cannot. Create a Server-side key under "
        "Integrations → API Keys."
    )
    assert first.failure_type == FailureType.config_error
    assert probe.sent == 1


def test_given_a_key_refused_everywhere_then_the_probes_error_is_the_one_raised() -> None:
    with pytest.raises(AirbyteTracedException, match=r"^key refused everywhere$"):
        RefusedKey(Probe(refuses=True)).error("POST", "export/start", 401, "BadApiKey")  # type: ignore[arg-type]
