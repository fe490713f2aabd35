"""Console script `source-iterable`: the Airbyte protocol verbs spec, check, discover and read.

`read` moves millions of export records, so this entry point keeps the CDK's protocol flow and removes the
per-record overhead around it (bench/ measures it, README "Benchmark"): export records come from their streams in
`RecordBatch`es (export/batching.py), and every RECORD message is written with one `orjson.dumps` exactly as the
CDK's serialiser writes it, to stdout in 1 MiB writes, each checked for every byte; every other message takes the
CDK's path. spec, check and discover go through the CDK's stock flow; every command reports a bad config by field,
without a traceback (the source's `configure`, config_errors.py). Every message but a record is masked for every
encoding of a secret (`secret_forms`).
"""

import argparse
import gc
import json
import logging
import os
import signal
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, BinaryIO, cast
from urllib.parse import quote, quote_plus

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER, is_platform_debug_log_enabled
from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.sources.message import MessageRepository
from airbyte_cdk.utils.airbyte_secrets_utils import filter_secrets, get_secrets, update_secrets
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_iterable.bounds import BATCH_BYTES
from source_iterable.config_errors import error_line
from source_iterable.export.batching import RecordBatch
from source_iterable.export.runtime import SyncRuntime
from source_iterable.source import SourceIterable

# Container allocations between two young garbage collections during `read` (Python's default: 700).
READ_GC_THRESHOLD = 50_000


def record_line(record: AirbyteRecordMessage) -> bytes | None:
    """The RECORD message's JSON line as the CDK writes it, or None when only the CDK's serialiser can write it.

    The CDK's serialiser omits None everywhere it walks, which for a record means the message's optional fields
    and the *top-level* keys of `data` whose value is null (nested nulls stay). We keep that behaviour, so a record
    is identical whichever path writes it: a destination never sees a top-level null from this connector.
    """
    if record.namespace is not None or record.meta is not None or record.file_reference is not None:
        return None
    data = record.data
    if None in data.values():
        data = {key: value for key, value in data.items() if value is not None}
    try:
        return orjson.dumps(
            {"type": "RECORD", "record": {"stream": record.stream, "data": data, "emitted_at": record.emitted_at}},
            option=orjson.OPT_APPEND_NEWLINE,
        )
    except orjson.JSONEncodeError:
        return None


def batch_lines(batch: RecordBatch, emitted_at: int) -> bytes | None:
    """The JSON lines of a batch's RECORD messages, as `record_line` writes each (one `orjson.dumps` per record)."""
    head = b'{"type":"RECORD","record":{"stream":' + orjson.dumps(batch.stream) + b',"data":'
    tail = b',"emitted_at":%d}}\n' % emitted_at
    dumps = orjson.dumps
    parts = []
    try:
        for data in batch.records:
            for key in [key for key, value in data.items() if value is None]:
                del data[key]  # the batch's own dict, written once: cheaper than copying it without the nulls
            parts.append(dumps(data))
    except orjson.JSONEncodeError:
        return None
    return head + (tail + head).join(parts) + tail


def secret_forms(secret: str) -> list[str]:
    """Every form a secret can take in a message: raw, JSON-escaped, Python repr, URL-encoded; longest first."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
    }
    return sorted(forms, key=len, reverse=True)


class IterableEntrypoint(AirbyteEntrypoint):
    """`AirbyteEntrypoint` whose secret mask knows every encoding of a secret (`secret_forms`): the CDK masks only
    the raw value. A config error of `check` is a FAILED connection status, wherever it is raised."""

    def run(self, parsed_args: argparse.Namespace) -> Iterator[str]:
        """The stock `run`, except that `check` reports a config error raised before its own validation (the
        source's `configure` refuses a config that breaks the spec, naming the field) as the stock `check` reports
        its own: a FAILED connection status, exit 0."""
        try:
            yield from super().run(parsed_args)
        except AirbyteTracedException as error:
            status = error.as_connection_status_message()
            if parsed_args.command != "check" or status is None:  # None: not a config error
                raise
            yield self.airbyte_message_to_string(status)

    @staticmethod
    def set_up_secret_filter(config: Any, connection_specification: Mapping[str, Any]) -> None:
        update_secrets(
            [form for secret in get_secrets(connection_specification, config) for form in secret_forms(secret)]
        )


class FastRecordEntrypoint(IterableEntrypoint):
    """`AirbyteEntrypoint` whose `read` command yields RECORD messages as ready JSON lines (bytes), the rest as str.

    The stock `run` serialises each record through serpyco-rs into a dict and then orjson (~5 µs per record), and
    writes `map(AirbyteEntrypoint.airbyte_message_to_string, …)` for `read` by class, so no override can reach it.
    So `run` below is the stock `run` for `read`, made of the entrypoint's documented parts: the stock public
    `read` (spec check, secret filter, the source's read, the memory monitor, queued messages, and record counts
    through the overridable `handle_record_counts`, which counts a `RecordBatch` by its records), with
    `record_line`/`batch_lines` writing records and `airbyte_message_to_string` every other message. Messages the
    source queued before and after come from its public `message_repository`. Other commands are the stock `run`.
    """

    def run(self, parsed_args: argparse.Namespace) -> Iterator[str | bytes]:  # type: ignore[override]
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        if getattr(parsed_args, "debug", False) or is_platform_debug_log_enabled():
            self.logger.setLevel(logging.DEBUG)
            logging.getLogger("airbyte").setLevel(logging.DEBUG)
            self.logger.debug("Debug logs enabled")
        else:
            self.logger.setLevel(logging.INFO)
        source_spec = self.source.spec(self.logger)
        try:
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
                os.environ[ENV_REQUEST_CACHE_PATH] = temp_dir
                config = self.source.configure(self.source.read_config(parsed_args.config), temp_dir)
                yield from self._queued_lines()
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                for message in self.read(source_spec, config, catalog, state):
                    yield self._line(message)
        finally:
            yield from self._queued_lines()

    def _queued_lines(self) -> Iterator[str]:
        """The messages the source queued, as the stock `run` emits them (a source may have no repository)."""
        repository = getattr(self.source, "message_repository", None)
        if isinstance(repository, MessageRepository):
            for message in repository.consume_queue():
                yield self.airbyte_message_to_string(message)

    def _line(self, message: AirbyteMessage) -> str | bytes:
        if type(message) is RecordBatch:
            lines = batch_lines(message, time.time_ns() // 1_000_000)
            if lines is None:
                return "\n".join(self.airbyte_message_to_string(each) for each in message.messages())
            return lines
        record = message.record
        line = record_line(record) if message.type == Type.RECORD and record is not None else None
        return self.airbyte_message_to_string(message) if line is None else line

    @staticmethod
    def handle_record_counts(
        message: AirbyteMessage, stream_message_count: defaultdict[HashableStreamDescriptor, float]
    ) -> AirbyteMessage:
        """The stock counting (it fills the STATE messages' `sourceStats.recordCount`), a batch counted by its
        records under one descriptor instead of one per record."""
        if type(message) is RecordBatch:
            stream_message_count[HashableStreamDescriptor(name=message.stream, namespace=None)] += len(message.records)
            return message
        return AirbyteEntrypoint.handle_record_counts(message, stream_message_count)


class BatchedOutput:
    """Writes record lines to stdout in `BATCH_BYTES` batches; any other message first flushes the batch, keeping
    order. Every write is checked: what the operating system did not take is written again (a single `write` of
    more than 2 GiB takes only part of it), so no byte is lost.

    Every message but a record is masked (`filter_secrets`) as written: the CDK masks logs and traces, but not a
    CONNECTION_STATUS or a trace's message built from an error body that echoes the key.

    Logs reach stdout through the CDK's `PRINT_BUFFER`, which every flush empties first under its lock.
    """

    def __init__(self, stdout: BinaryIO | None = None) -> None:
        self._lines: list[bytes] = []
        self._size = 0
        self._stdout = stdout

    def write(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self._lines.append(message)
            self._size += len(message)
            if self._size >= BATCH_BYTES:
                self.flush()
            return
        self.flush()
        PRINT_BUFFER.write(f"{filter_secrets(message)}\n")
        if message.startswith('{"type":"STATE"'):
            # A checkpoint goes out at once: held in the buffer while an export waits a minute for its throttle
            # slot, it would be lost to a kill, and the next sync would re-read the window it closes.
            PRINT_BUFFER.flush()

    def flush(self) -> None:
        if not self._lines:
            return
        with PRINT_BUFFER.lock:
            PRINT_BUFFER.flush()
            stdout = self._stdout or cast(BinaryIO, sys.__stdout__.buffer)  # type: ignore[union-attr]
            write_all(stdout, b"".join(self._lines))
            stdout.flush()
        self._lines.clear()
        self._size = 0


def write_all(stdout: BinaryIO, data: bytes) -> None:
    """Write every byte of `data`: a short write goes on from where it stopped; a write that takes nothing fails."""
    view = memoryview(data)
    while view:
        written = stdout.write(view)
        if not written:
            raise OSError(f"stdout took no bytes of the {len(view)} left to write")
        view = view[written:]


def build_source(args: list[str], record_batches: bool = False) -> SourceIterable:
    """Build the source with config, catalog and state from the command line (the CDK ignores them later)."""
    config_path = AirbyteEntrypoint.extract_config(args)
    catalog_path = AirbyteEntrypoint.extract_catalog(args)
    state_path = AirbyteEntrypoint.extract_state(args)
    return SourceIterable(
        catalog=SourceIterable.read_catalog(catalog_path) if catalog_path else None,
        config=SourceIterable.read_config(config_path) if config_path else None,
        state=SourceIterable.read_state(state_path) if state_path else None,
        config_path=config_path,
        record_batches=record_batches,
    )


def run() -> None:
    """Run one protocol verb; an error the connector explains (a config error naming the field or file, a failed
    sync naming its streams) ends it with one TRACE line and exit status 1, without a stack trace."""
    args = sys.argv[1:]
    parsed_args = AirbyteEntrypoint.parse_args(args)
    try:
        if parsed_args.command == "read":
            read(args, parsed_args)
        else:
            with PRINT_BUFFER:
                for message in IterableEntrypoint(build_source(args)).run(parsed_args):
                    print(f"{filter_secrets(message)}\n", end="")
    except AirbyteTracedException as error:
        print(error_line(error), flush=True)
        sys.exit(1)


@contextmanager
def _records_not_scanned_for_cycles() -> Iterator[None]:
    """Keep the cycle collector from rescanning objects for every few records read.

    Every decoded record is a dozen dicts and lists, all tracked by the cycle collector, and a thousand of them wait
    in a batch, so with Python's default (a young collection every 700 allocations, a full one every ~100 young
    ones while objects are promoted) a `read` of rich records spent 15-25 % of its CPU time in `gc`, mostly
    traversing the CDK's and the manifest's objects (over 100,000). Records hold no reference cycles: reference
    counting frees them. So the objects built before reading (imports, manifest, source) are frozen (never scanned
    again) and young collections run every `READ_GC_THRESHOLD` allocations; cycles are still collected, less often.
    """
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(READ_GC_THRESHOLD, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def cancel_jobs_on_signals(runtime: SyncRuntime) -> None:
    """On SIGTERM or SIGINT, cancel the export jobs this sync started and not finished, then exit 128 + signal.

    The platform stops a sync with SIGTERM; Ctrl-C is SIGINT. Records are read by the CDK's worker threads, which
    a Python exception in the main thread would not stop (the interpreter waits for them), so the handler ends the
    process with `os._exit` once the jobs are cancelled: the STATE messages written so far stand, and what was
    read after the last one is read again by the next sync. Each cancel goes through the job-API budget, so this
    takes about a second per job (4 at most).
    """

    def handle(signum: int, frame: object) -> None:
        runtime.cancel_jobs()
        try:
            PRINT_BUFFER.flush()
        except RuntimeError:
            pass  # stdout was being written when the signal came: the log lines of the cancel are lost, not the exit
        os._exit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, handle)


def read(args: list[str], parsed_args: argparse.Namespace) -> None:
    source = build_source(args, record_batches=True)
    cancel_jobs_on_signals(source.runtime)
    entrypoint = FastRecordEntrypoint(source)
    output = BatchedOutput()
    with PRINT_BUFFER, _records_not_scanned_for_cycles():
        try:
            for message in entrypoint.run(parsed_args):
                output.write(message)
        finally:
            output.flush()


if __name__ == "__main__":
    run()
