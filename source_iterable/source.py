"""The connector: Iterable's API described by `manifest.yaml`, run by the CDK's declarative engine."""

import logging
from collections.abc import Iterator, Mapping, MutableMapping
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteErrorTraceMessage,
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    FailureType,
    Status,
    StreamDescriptor,
    SyncMode,
    TraceType,
    Type,
)
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource
from airbyte_cdk.utils.datetime_helpers import ab_datetime_parse
from airbyte_cdk.utils.stream_status_utils import as_airbyte_message as stream_status_message
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from airbyte_cdk.utils.yaml_loader import safe_load_yaml

from source_iterable import cdk_adapter
from source_iterable.components import ConnectionProbes
from source_iterable.config_errors import config_error, spec_violation
from source_iterable.export.batching import RecordBatch
from source_iterable.export.paths import ExportSettings, StreamRange, choose_paths
from source_iterable.export.runtime import SyncRuntime, current_runtime
from source_iterable.input_files import read_catalog_file, read_config_file, read_state_file
from source_iterable.state_values import normalise_state, stream_cursors

MANIFEST_NAME = "manifest.yaml"


def load_manifest() -> dict[str, Any]:
    """Read the manifest shipped inside the wheel, or the repository's top-level one in a source checkout."""
    packaged = resources.files("source_iterable") / MANIFEST_NAME
    if packaged.is_file():
        text = packaged.read_text(encoding="utf-8")
    else:
        text = (Path(__file__).resolve().parent.parent / MANIFEST_NAME).read_text(encoding="utf-8")
    manifest: dict[str, Any] = safe_load_yaml(text)  # libyaml when built with it: 0.01 s instead of 0.17 s
    return manifest


STRIPPED_FIELDS = ("api_key", "api_base_url")


def strip_config(config: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """`config` with the string values of STRIPPED_FIELDS stripped of surrounding whitespace."""
    for name in STRIPPED_FIELDS:
        if isinstance(config.get(name), str):
            config[name] = config[name].strip()
    return config


CONCURRENT_READ_FAILURE = "Concurrent read failure"  # internal_message of the CDK's end-of-sync exception


def failed_sync(failures: Mapping[str, AirbyteErrorTraceMessage]) -> AirbyteTracedException:
    """The end-of-sync error: each failed stream with its own message, and the failure type of the causes.

    The CDK ends a sync whose streams failed with a config_error listing `repr()`s of the exceptions
    ("AirbyteTracedException(None)" when it had no internal message), even when Iterable's servers were the cause.
    Here it is a config error only if every cause was one; a system error if any was; transient otherwise.
    """
    types = {error.failure_type for error in failures.values()}
    if types <= {FailureType.config_error}:
        failure_type = FailureType.config_error
    elif FailureType.system_error in types or None in types:
        failure_type = FailureType.system_error
    else:
        failure_type = FailureType.transient_error
    causes = "; ".join(f"{name}: {error.message or error.internal_message}" for name, error in failures.items())
    message = f"{len(failures)} stream(s) did not sync: {causes}"
    return AirbyteTracedException(message=message, internal_message=message, failure_type=failure_type)


class SourceIterable(ConcurrentDeclarativeSource):
    """Iterable source. Everything it reads is in the manifest; this class loads it by absolute path, reads the
    command line's files strictly (input_files.py), rewrites the incoming state's cursor values to their cursor's
    form (state_values.py), owns the sync's export runtime (export/runtime.py: throttle, job services, each export
    stream's path, batching), chooses the export paths before a read, and words the end-of-sync failure after its
    causes (`failed_sync`)."""

    def __init__(
        self,
        catalog: ConfiguredAirbyteCatalog | None = None,
        config: Mapping[str, Any] | None = None,
        state: list[AirbyteStateMessage] | None = None,
        record_batches: bool = False,
        **kwargs: Any,
    ) -> None:
        """`record_batches`: `read` gives out export records as `RecordBatch`es (export/batching.py), not one message
        each; only for a caller that writes them itself, like the console script."""
        config = strip_config(dict(config)) if config is not None else None
        manifest = load_manifest()
        if state:
            state = normalise_state(state, stream_cursors(manifest))
        super().__init__(catalog=catalog, config=config, state=state, source_config=manifest, **kwargs)
        self.runtime = SyncRuntime(batch_records=record_batches)
        self._reading: frozenset[str] | None = None

    def streams(self, config: Mapping[str, Any]) -> list[Any]:
        """The CDK's streams, built while this source's runtime is the current one (their export retrievers take
        it then: export/runtime.py); during `read`, only the streams its catalog selects (`_reading`)."""
        with current_runtime(self.runtime):
            return cdk_adapter.build_streams(self, self._reading)

    def configure(self, config: Mapping[str, Any], temp_dir: str) -> Mapping[str, Any]:
        """The config every command runs with, refused with a config error naming the first field that breaks the
        spec (type, enum, bounds: `spec_violation`).

        The entrypoint calls this first for check, discover and read, through the console script and through the
        CDK's own entrypoint (its test helpers): before it sets up the secret mask, which crashed on an `api_key`
        that is not a string, and before its own spec check, whose text names no field
        (`Config validation error: 5 is not of type 'string'`).
        """
        configured = super().configure(config, temp_dir)
        violation = spec_violation(configured, self.spec(logging.getLogger("airbyte")).connectionSpecification)
        if violation:
            raise config_error(violation)
        return configured

    @staticmethod
    def read_config(config_path: str) -> MutableMapping[str, Any]:
        """The config file (or a config error naming it, input_files.py), `api_key` and `api_base_url` stripped.

        Iterable keys and URLs have no surrounding whitespace; a pasted newline would otherwise make every request fail with the key
        quoted in the error (and escape the secret mask in its JSON-escaped form).
        """
        return strip_config(read_config_file(config_path))

    @classmethod
    def read_catalog(cls, catalog_path: str) -> ConfiguredAirbyteCatalog:
        """The catalog file, or a config error naming it and what is wrong with it (input_files.py)."""
        return read_catalog_file(catalog_path)

    @classmethod
    def read_state(cls, state_path: str) -> list[AirbyteStateMessage]:
        """The state file in any shape Airbyte writes (STREAM, GLOBAL, LEGACY), or a config error naming it."""
        return read_state_file(state_path) if state_path else []

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """The CDK's read of the catalog's streams (only those are built), after choosing the export streams'
        paths (`_export_paths`), plus what the CDK does per record for the records that come in `RecordBatch`es.

        Each batch is marked arrived (its reader may go on), preceded for the stream's first one by the RUNNING
        status the CDK emits on a stream's first record, and given out whole (only the console script asks for
        batches, and writes them itself). The CDK's "Read N records from <stream> stream" log counts only records
        that come one by one, so a log of its own follows it with the count of batched records. A sync whose
        streams failed ends with `failed_sync`'s error instead of the CDK's.
        """
        self.runtime.paths = self._export_paths(catalog)
        self._reading = frozenset(entry.stream.name for entry in catalog.streams)
        failures: dict[str, AirbyteErrorTraceMessage] = {}
        try:
            yield from self._read_batches(logger, config, catalog, state, failures)
        except AirbyteTracedException as error:
            if error.internal_message == CONCURRENT_READ_FAILURE and failures:
                raise failed_sync(failures) from error
            raise
        finally:
            self._reading = None

    def _read_batches(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None,
        failures: dict[str, AirbyteErrorTraceMessage],
    ) -> Iterator[AirbyteMessage]:
        """`read` before its end-of-sync error; the first error trace of each stream goes into `failures`."""
        batched: dict[str, int] = {}
        for message in super().read(logger, config, catalog, state):
            if isinstance(message, RecordBatch):
                message.arrived()
                if message.stream not in batched:
                    batched[message.stream] = 0
                    yield stream_status_message(StreamDescriptor(name=message.stream), AirbyteStreamStatus.RUNNING)
                batched[message.stream] += len(message.records)
                yield message
                continue
            trace = message.trace if message.type == Type.TRACE else None
            error = trace.error if trace is not None and trace.type == TraceType.ERROR else None
            if error is not None and error.stream_descriptor is not None:
                failures.setdefault(error.stream_descriptor.name, error)
            status = trace.stream_status if trace is not None and trace.type == TraceType.STREAM_STATUS else None
            if (
                status is not None
                and status.status in (AirbyteStreamStatus.COMPLETE, AirbyteStreamStatus.INCOMPLETE)
                and status.stream_descriptor.name in batched
            ):
                name = status.stream_descriptor.name
                logger.info(f"Read {batched[name]} records from {name} stream in batches")
            yield message

    def _export_paths(self, catalog: ConfiguredAirbyteCatalog) -> dict[str, str]:
        """Choose each selected export stream's path for this sync (export_mode.py) from the range it will read.

        The range is the one its cursor will slice: from the saved state minus the lookback window (start_date on a
        first sync or in full refresh) to end_date or now. The choice goes into the runtime, where each export
        retriever looks its own up when it reads.
        """
        config = cdk_adapter.config(self)
        selected = {entry.stream.name: entry.sync_mode for entry in catalog.streams}
        exports = [
            stream
            for stream in cdk_adapter.stream_definitions(self)
            if stream.get("name") in selected
            and str((stream.get("retriever") or {}).get("class_name", "")).endswith("ExportWindowRetriever")
        ]
        try:
            start_date = ab_datetime_parse(str(config.get("start_datetime")))
            end = ab_datetime_parse(str(config["end_datetime"])) if config.get("end_datetime") else datetime.now(UTC)
        except ValueError:
            return {}  # a malformed date: the config validation that runs as streams are built names the field
        if not exports:
            return {}
        lookback = timedelta(minutes=int(config.get("lookback_window", 60)))
        ranges = []
        for stream in exports:
            name = stream["name"]
            start = start_date
            cursor_field = (stream.get("incremental_sync") or {}).get("cursor_field")
            saved = cdk_adapter.saved_stream_state(self, name).get(str(cursor_field))
            if selected[name] == SyncMode.incremental and saved:
                start = max(start_date, ab_datetime_parse(str(saved)) - lookback)
            ranges.append(StreamRange(name=name, start=start, end=end))
        return choose_paths(ranges, ExportSettings.from_config(config))

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Validate the config, then send the manifest's `definitions.check_probes` (see ConnectionProbes).

        A config error of the validations fails the check with its message (the entrypoint would also emit it as
        a TRACE with the stack trace). Probes go through the source's API budget like every stream request.
        """
        try:
            cdk_adapter.prepare_for_stream_build(self)  # the config validations and the API budget, as for streams()
        except AirbyteTracedException as error:
            if error.failure_type != FailureType.config_error:
                raise
            return AirbyteConnectionStatus(status=Status.FAILED, message=error.message)
        probes = [
            cdk_adapter.build_requester(self, probe, name=f"check_probe_{index}")
            for index, probe in enumerate(cdk_adapter.manifest(self)["definitions"]["check_probes"], start=1)
        ]
        return ConnectionProbes(probes).run()
