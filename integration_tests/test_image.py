"""The connector's image, run as Airbyte runs it: one container per protocol command, inputs mounted read-only.

`scripts/test_docker.sh` builds the image and runs this module with SOURCE_ITERABLE_IMAGE (the image) and
CONTAINER_CLI (podman, or another Docker-compatible CLI); the normal suite deselects it (marker `image_tests`).
Each container reaches the emulator on the host's loopback (host network). Every output is compared with what the
installed console script (.venv/bin/source-iterable) prints for the same command and inputs: the image must ship the
same connector, not merely a working one.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from integration_tests.acceptance import CONFIGURED_CATALOG, SAMPLE_CONFIG, load_json
from integration_tests.emulator import Dataset, Emulator, ExportJobSettings
from integration_tests.image import Engine
from source_iterable.source import SourceIterable
from unit_tests.manifest_streams import stream_definitions

pytestmark = [pytest.mark.image_tests, pytest.mark.timeout(600)]

CONSOLE_SCRIPT = str(Path(sys.executable).with_name("source-iterable"))
INPUTS = "/secrets"
# Streams whose cursor is the time of the sync (`synced_at`, when they listed the campaigns): their state and records
# carry it, so two syncs never agree on them.
SYNC_TIME_STREAMS = {
    name
    for name, variants in stream_definitions().items()
    if any((variant.get("incremental_sync") or {}).get("cursor_field") == "synced_at" for variant in variants)
}
EMITTED_AT = re.compile(rb',"emitted_at":\d+\}\}$')
# How many records a stream emitted since its previous STATE: where checkpoints fall between concurrently read
# partitions differs from run to run, as emitted_at does.
SOURCE_STATS = re.compile(rb',"sourceStats":\{"recordCount":[0-9.]+\}\}\}$')
COMMAND_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def image() -> str:
    name = os.environ.get("SOURCE_ITERABLE_IMAGE")
    if not name:
        pytest.fail("SOURCE_ITERABLE_IMAGE is not set: run these tests with `bash scripts/test_docker.sh`")
    return name


@pytest.fixture(scope="module")
def engine(image: str) -> Engine:
    return Engine.detect(shlex.split(os.environ.get("CONTAINER_CLI", "podman")), image)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(Dataset(seed=7), rate_limits={}) as emu:
        yield emu


def a_config(emulator: Emulator) -> dict[str, Any]:
    """The acceptance tests' config (sample_config.json), pointed at this emulator.

    An incremental sync re-reads one day of per-day campaign metrics instead of 15, so that each read stays within
    one minute's budget of campaigns/metrics (10 requests) instead of waiting for the next minute.
    """
    return {**load_json(SAMPLE_CONFIG), "api_base_url": emulator.url, "campaign_metrics_lookback_days": 1}


def inputs_folder(folder: Path, files: Mapping[str, Any]) -> Path:
    """JSON files `<name>.json` in `folder`, readable by the container's uid 1000 (Airbyte mounts them so too)."""
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    for name, content in files.items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(content), encoding="utf-8")
        path.chmod(0o644)
    return folder


def protocol_args(verb: str, folder: str, files: Mapping[str, Any]) -> list[str]:
    args = [verb]
    for name in ("config", "catalog", "state"):
        if name in files:
            args += [f"--{name}", f"{folder}/{name}.json"]
    return args


def in_container(engine: Engine, image: str, verb: str, folder: Path) -> subprocess.CompletedProcess[bytes]:
    files = {path.stem: None for path in folder.glob("*.json")}
    argv = engine.run_argv(image, *protocol_args(verb, INPUTS, files), mounts=[(folder, INPUTS)])
    return subprocess.run(argv, capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False)


def in_console_script(verb: str, folder: Path) -> subprocess.CompletedProcess[bytes]:
    files = {path.stem: None for path in folder.glob("*.json")}
    argv = [CONSOLE_SCRIPT, *protocol_args(verb, str(folder), files)]
    return subprocess.run(argv, capture_output=True, timeout=COMMAND_TIMEOUT_S, check=False, cwd=folder)


def messages(result: subprocess.CompletedProcess[bytes], kind: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith(b"{")]
    return [message for message in parsed if message["type"] == kind]


def succeeded(result: subprocess.CompletedProcess[bytes]) -> subprocess.CompletedProcess[bytes]:
    errors = [m["trace"]["error"]["message"] for m in messages(result, "TRACE") if m["trace"]["type"] == "ERROR"]
    assert (result.returncode, errors) == (0, []), result.stderr.decode()[-2000:]
    return result


def record_lines(result: subprocess.CompletedProcess[bytes]) -> list[bytes]:
    """Every RECORD line as written, without its `emitted_at`, in a fixed order (streams are read concurrently)."""
    lines = [line for line in result.stdout.splitlines() if line.startswith(b'{"type":"RECORD"')]
    return sorted(EMITTED_AT.sub(b"}}", line) for line in lines)


def final_state_lines(result: subprocess.CompletedProcess[bytes]) -> dict[str, bytes]:
    """Each stream's last STATE line, as written, without its `sourceStats`."""
    final = {}
    for line in result.stdout.splitlines():
        if line.startswith(b'{"type":"STATE"'):
            final[json.loads(line)["state"]["stream"]["stream_descriptor"]["name"]] = SOURCE_STATS.sub(b"}}", line)
    return final


def streams_with_records(lines: list[bytes]) -> set[str]:
    return {json.loads(line)["record"]["stream"] for line in lines}


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    """The acceptance tests' configured catalog (every stream, incremental on its cursor where it has one)."""
    configured: list[dict[str, Any]] = load_json(CONFIGURED_CATALOG)["streams"]
    return {"streams": [stream for stream in configured if stream["stream"]["name"] not in SYNC_TIME_STREAMS]}


@pytest.fixture(scope="module")
def first_sync(
    engine: Engine, image: str, emulator: Emulator, catalog: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    """The same first sync (no state) read by the image and by the console script."""
    folder = inputs_folder(
        tmp_path_factory.mktemp("first") / "inputs", {"config": a_config(emulator), "catalog": catalog}
    )
    return succeeded(in_container(engine, image, "read", folder)), succeeded(in_console_script("read", folder))


@pytest.fixture(scope="module")
def incremental_sync(
    engine: Engine,
    image: str,
    emulator: Emulator,
    catalog: dict[str, Any],
    first_sync: tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    """The next sync from the state the image's first sync ended with, read by the image and by the console script."""
    state = [json.loads(line)["state"] for line in final_state_lines(first_sync[0]).values()]
    files = {"config": a_config(emulator), "catalog": catalog, "state": state}
    folder = inputs_folder(tmp_path_factory.mktemp("incremental") / "inputs", files)
    return succeeded(in_container(engine, image, "read", folder)), succeeded(in_console_script("read", folder))


def test_spec_of_the_image_is_the_spec_of_the_package(engine: Engine, image: str) -> None:
    (in_image,) = messages(
        succeeded(subprocess.run(engine.run_argv(image, "spec"), capture_output=True, timeout=120)), "SPEC"
    )
    (packaged,) = messages(
        succeeded(subprocess.run([CONSOLE_SCRIPT, "spec"], capture_output=True, timeout=120)), "SPEC"
    )
    assert in_image == packaged


def test_check_with_the_config_mounted_read_only_succeeds(
    engine: Engine, image: str, emulator: Emulator, tmp_path: Path
) -> None:
    folder = inputs_folder(tmp_path / "inputs", {"config": a_config(emulator)})
    (status,) = messages(succeeded(in_container(engine, image, "check", folder)), "CONNECTION_STATUS")
    assert status["connectionStatus"]["status"] == "SUCCEEDED"


def test_discover_lists_the_streams_of_the_manifest(
    engine: Engine, image: str, emulator: Emulator, tmp_path: Path
) -> None:
    config = a_config(emulator)
    folder = inputs_folder(tmp_path / "inputs", {"config": config})
    (catalog,) = messages(succeeded(in_container(engine, image, "discover", folder)), "CATALOG")
    manifest_streams = [stream.name for stream in SourceIterable(config=config).streams(config)]
    assert [stream["name"] for stream in catalog["catalog"]["streams"]] == manifest_streams


def test_a_first_sync_emits_the_console_scripts_records_byte_for_byte(
    first_sync: tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]], catalog: dict[str, Any]
) -> None:
    in_image, console = (record_lines(result) for result in first_sync)
    assert in_image == console
    assert streams_with_records(in_image) == {stream["stream"]["name"] for stream in catalog["streams"]}


def test_a_first_sync_ends_in_the_console_scripts_states_byte_for_byte(
    first_sync: tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]], catalog: dict[str, Any]
) -> None:
    in_image, console = (final_state_lines(result) for result in first_sync)
    assert in_image == console
    incremental = {stream["stream"]["name"] for stream in catalog["streams"] if stream["sync_mode"] == "incremental"}
    assert incremental <= set(in_image)


def test_an_incremental_sync_from_the_first_syncs_state_emits_the_console_scripts_records_byte_for_byte(
    incremental_sync: tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]],
) -> None:
    in_image, console = (record_lines(result) for result in incremental_sync)
    assert in_image == console


def test_an_incremental_sync_from_the_first_syncs_state_ends_in_the_console_scripts_states_byte_for_byte(
    incremental_sync: tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]],
) -> None:
    in_image, console = (final_state_lines(result) for result in incremental_sync)
    assert in_image == console


def test_the_connector_runs_as_uid_1000_and_gid_1000(engine: Engine, image: str) -> None:
    script = "import os; print(os.getuid(), os.getgid())"
    result = subprocess.run(
        engine.run_argv(image, "-c", script, entrypoint="python"), capture_output=True, text=True, timeout=120
    )
    assert result.stdout == "1000 1000\n"


def test_given_a_bad_start_date_when_discover_then_one_config_error_trace_names_the_field(
    engine: Engine, image: str, emulator: Emulator, tmp_path: Path
) -> None:
    folder = inputs_folder(tmp_path / "inputs", {"config": {**a_config(emulator), "start_date": "garbage"}})
    result = in_container(engine, image, "discover", folder)
    message = (
        "Config field 'start_date' must be a date 2024-01-01 or a UTC date-time 2024-01-01T00:00:00Z; got 'garbage'."
    )
    assert result.returncode == 1
    assert [m["trace"]["error"] for m in messages(result, "TRACE")] == [
        {"message": message, "internal_message": message, "failure_type": "config_error"}
    ]


def test_sigterm_to_the_container_cancels_its_running_export_job_and_the_container_exits(
    engine: Engine, image: str, tmp_path: Path
) -> None:
    """Airbyte stops a sync by signalling the container (`docker stop`): the connector, PID 1 there, must cancel
    the export job it started on Iterable (which counts against 4 per organization) and exit."""
    never_ready = ExportJobSettings(time_scale=1.0, queue_seconds=0.0, startup_seconds=600.0)
    catalog = {
        "streams": [
            stream for stream in load_json(CONFIGURED_CATALOG)["streams"] if stream["stream"]["name"] == "email_send"
        ]
    }
    name = f"source-iterable-sigterm-{os.getpid()}"
    with Emulator(Dataset(seed=7), rate_limits={}, export_jobs=never_ready) as emu:
        config = {**a_config(emu), "export_mode": "jobs", "export_job_requests_per_second": 1000}
        folder = inputs_folder(tmp_path / "inputs", {"config": config, "catalog": catalog})
        argv = engine.run_argv(
            image, *protocol_args("read", INPUTS, {"config": 1, "catalog": 1}), mounts=[(folder, INPUTS)], name=name
        )
        container = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while not emu.jobs() and time.monotonic() < deadline and container.poll() is None:
                time.sleep(0.2)
            jobs = emu.jobs()
            assert len(jobs) == 1, f"{len(jobs)} export jobs started; the container's exit code: {container.poll()}"
            subprocess.run([*engine.cli, "kill", "--signal", "TERM", name], check=True, capture_output=True, timeout=60)
            container.wait(timeout=60)
        finally:
            if container.poll() is None:
                subprocess.run([*engine.cli, "kill", name], capture_output=True, timeout=60)
                container.wait(timeout=60)
        deletes = [(r.method, r.path) for r in emu.requests if r.method == "DELETE"]
    assert deletes == [("DELETE", f"/api/export/{jobs[0].id}")]


def test_the_image_benchmark_runs_and_reports_the_size_and_the_cold_start(image: str) -> None:
    """`python -m bench.image` (bench/RESULTS.md): only that it runs; timings are never asserted."""
    cli = os.environ.get("CONTAINER_CLI", "podman")
    argv = [sys.executable, "-m", "bench.image", "--image", image, "--cli", cli, "--repeat", "1"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith(f"image {image}: ")
    assert "inside a new container" in result.stdout
