"""The connector's image on this host: built with podman from the project's Dockerfile, run as Airbyte runs it.

The Dockerfile's default base image (python:3.11-slim-bookworm) lives on Docker Hub, which a machine may not reach;
Debian's package mirror is enough. `build_base_image` makes the same system — Debian bookworm with its Python 3.11 —
with mmdebstrap, once per set of inputs (the tag carries their hash), and `build_connector_image` builds the
unchanged Dockerfile on it (`--build-arg PYTHON_IMAGE=...`).

`Engine.detect` finds what this host's container engine needs instead of assuming one machine:
- an OCI runtime that starts containers here (crun refuses a host whose cgroups are a v1/v2 hybrid; runc does not);
- resource limits it may set: podman asks for 1048576 open files and processes by default, which root without
  CAP_SYS_RESOURCE cannot grant above its own hard limits, so the container gets the engine's own limits instead.
`pip_ca_bundle` finds the CA bundle the host's pip trusts (an HTTPS proxy's own CA, say), which the build's pip
must trust too; it is bind-mounted over the base's bundle for the build's RUN steps only, so the image keeps
Debian's. Builds and containers use the host's network: the build's pip reaches the package index by the host's
routes, and the tests' containers reach the emulator on the host's loopback.

    python -m integration_tests.image build [--tag localhost/source-iterable:dev]   (what scripts/test_docker.sh runs)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TAG = "localhost/source-iterable:dev"
BASE_REPOSITORY = "localhost/source-iterable-base"
SUITE = "bookworm"
# python3: Python 3.11, as the Dockerfile's python:3.11-slim-bookworm; python3-pip and python-is-python3: the
# Dockerfile's `python -m pip`; ca-certificates: HTTPS to the package index and to Iterable; passwd: groupadd and
# useradd for the image's uid 1000.
BASE_PACKAGES = ("python3", "python3-pip", "python-is-python3", "ca-certificates", "passwd")
HOOKS = Path("/usr/share/mmdebstrap/hooks")
# minbase is what a slim image holds; merged /usr as on any bookworm system; eatmydata skips dpkg's fsyncs while
# the image is made (it is removed afterwards); no documentation but copyrights, no manual pages, no translations;
# Debian's EXTERNALLY-MANAGED marker removed, so pip installs into the system Python as into python:3.11-slim's.
MMDEBSTRAP_OPTIONS = (
    "--variant=minbase",
    f"--include={','.join(BASE_PACKAGES)}",
    f"--hook-dir={HOOKS / 'merged-usr'}",
    f"--hook-dir={HOOKS / 'eatmydata'}",
    "--dpkgopt=path-exclude=/usr/share/doc/*",
    "--dpkgopt=path-include=/usr/share/doc/*/copyright",
    "--dpkgopt=path-exclude=/usr/share/man/*",
    "--dpkgopt=path-exclude=/usr/share/info/*",
    "--dpkgopt=path-exclude=/usr/share/locale/*",
    '--customize-hook=rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED',
)
# As python:3.11-slim sets them.
IMPORT_CHANGES = ("ENV LANG=C.UTF-8", 'CMD ["python3"]')
BASE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Limits low enough for any host, for the probe that finds a runtime.
PROBE_LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
# Probes need no network: none set up, none to fail.
PROBE = ("run", "--rm", "--network", "none")
LIMITS = {"nofile": "Max open files", "nproc": "Max processes"}
COMMAND_TIMEOUT_S = 900


class ImageError(RuntimeError):
    """The image cannot be built or run here; the message says which command failed and what it printed."""


def run(argv: Sequence[str], timeout: float = COMMAND_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise ImageError(f"`{' '.join(argv)}` exited {result.returncode}:\n{(result.stderr or result.stdout)[-3000:]}")
    return result


@dataclass(frozen=True)
class Engine:
    """A container CLI with the options every container and build on this host needs."""

    cli: tuple[str, ...]
    runtime: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()

    @classmethod
    def detect(cls, cli: Sequence[str], probe_image: str) -> Engine:
        """The first runtime that starts `probe_image` here (the engine's default first), then the limits it may set."""
        candidates = [()] + [("--runtime", name) for name in ("runc", "crun") if shutil.which(name)]
        failures = []
        for runtime in candidates:
            probe = [*cli, *PROBE, *runtime, *PROBE_LIMITS, "--entrypoint", "true", probe_image]
            result = subprocess.run(probe, capture_output=True, text=True, timeout=120, check=False)
            if result.returncode == 0:
                engine = cls(tuple(cli), runtime)
                return cls(tuple(cli), runtime, engine.settable_limits(probe_image))
            failures.append(f"`{' '.join(probe)}`: {result.stderr.strip()[-500:]}")
        raise ImageError("No OCI runtime starts a container here:\n" + "\n".join(failures))

    def settable_limits(self, probe_image: str) -> tuple[str, ...]:
        """No option when the engine's default limits start a container; else the limits of its container monitor.

        A process may lower its limits but, without CAP_SYS_RESOURCE, not raise them: the monitor's (podman's
        conmon) are the most the runtime it starts can give a container.
        """
        default = subprocess.run(
            [*self.cli, *PROBE, *self.runtime, "--entrypoint", "true", probe_image],
            capture_output=True,
            timeout=120,
        )
        if default.returncode == 0:
            return ()
        name = f"source-iterable-limits-probe-{os.getpid()}"
        sleeper = ["--entrypoint", "sleep", probe_image, "60"]
        run([*self.cli, *PROBE, "--detach", "--name", name, *self.runtime, *PROBE_LIMITS, *sleeper])
        try:
            monitor = run([*self.cli, "inspect", "--format", "{{.State.ConmonPid}}", name]).stdout.strip()
            table = Path(f"/proc/{monitor}/limits").read_text(encoding="utf-8")
        finally:
            subprocess.run([*self.cli, "kill", name], capture_output=True, timeout=120)
        options: list[str] = []
        for option, row in LIMITS.items():
            soft, hard = next(line[len(row) :].split()[:2] for line in table.splitlines() if line.startswith(row))
            options += ["--ulimit", f"{option}={soft}:{hard}"]
        return tuple(options)

    def run_argv(
        self,
        image: str,
        *args: str,
        mounts: Sequence[tuple[Path, str]] = (),
        name: str | None = None,
        entrypoint: str | None = None,
    ) -> list[str]:
        """`run` of `image` with `args`, on the host's network, each (host path, container path) mounted read-only."""
        argv = [*self.cli, "run", "--rm", "--network", "host", *self.runtime, *self.limits]
        for source, target in mounts:
            argv += ["--volume", f"{source}:{target}:ro"]
        if name:
            argv += ["--name", name]
        if entrypoint:
            argv += ["--entrypoint", entrypoint]
        return [*argv, image, *args]

    def image_size(self, image: str) -> int:
        return int(run([*self.cli, "image", "inspect", "--format", "{{.Size}}", image]).stdout)


def pip_ca_bundle() -> Path | None:
    """The CA bundle the host's pip trusts beyond its own: PIP_CERT, pip's `cert` setting, then requests' variables."""
    if os.environ.get("PIP_CERT"):
        return Path(os.environ["PIP_CERT"])
    listed = run([sys.executable, "-m", "pip", "config", "list"]).stdout.splitlines()
    certs = [line.split("=", 1)[1].strip("'\"") for line in listed if line.split("=", 1)[0].endswith(".cert")]
    if certs:
        return Path(certs[-1])
    for variable in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        if os.environ.get(variable):
            return Path(os.environ[variable])
    return None


def base_image_tag() -> str:
    """The base image's tag: the hash of everything that makes it (suite, packages, options, image settings)."""
    inputs = json.dumps({"suite": SUITE, "mmdebstrap": MMDEBSTRAP_OPTIONS, "changes": IMPORT_CHANGES})
    return f"{BASE_REPOSITORY}:{SUITE}-{hashlib.sha256(inputs.encode()).hexdigest()[:12]}"


def image_exists(cli: Sequence[str], image: str) -> bool:
    return subprocess.run([*cli, "image", "inspect", image], capture_output=True, timeout=120).returncode == 0


def build_base_image(cli: Sequence[str]) -> tuple[str, bool]:
    """The Debian bookworm base image, made with mmdebstrap unless one with the same inputs exists; (tag, built)."""
    tag = base_image_tag()
    if image_exists(cli, tag):
        return tag, False
    with tempfile.TemporaryDirectory(prefix="source-iterable-base-") as work:
        tarball = Path(work) / "rootfs.tar"
        run(["mmdebstrap", "--quiet", *MMDEBSTRAP_OPTIONS, SUITE, str(tarball)])
        changes = [word for change in IMPORT_CHANGES for word in ("--change", change)]
        run([*cli, "import", "--quiet", *changes, str(tarball), tag])
    return tag, True


def build_connector_image(engine: Engine, base: str, tag: str) -> None:
    """The project's Dockerfile, unchanged, on `base`."""
    bundle = pip_ca_bundle()
    trust = ["--volume", f"{bundle.resolve()}:{BASE_CA_BUNDLE}:ro"] if bundle else []
    run(
        [
            *engine.cli,
            "build",
            "--network",
            "host",
            *engine.runtime,
            *engine.limits,
            *trust,
            "--build-arg",
            f"PYTHON_IMAGE={base}",
            "--tag",
            tag,
            str(ROOT),
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m integration_tests.image", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build"])
    parser.add_argument("--tag", default=DEFAULT_TAG)
    parser.add_argument("--cli", default="podman", help="the container CLI (default podman)")
    args = parser.parse_args()
    cli = args.cli.split()
    try:
        started = time.monotonic()
        base, built = build_base_image(cli)
        base_seconds = time.monotonic() - started
        print(f"base image {base}: {'built' if built else 'cached'} ({base_seconds:.0f} s)", flush=True)
        engine = Engine.detect(cli, base)
        print(f"engine: {' '.join([*engine.cli, *engine.runtime, *engine.limits])}", flush=True)
        started = time.monotonic()
        build_connector_image(engine, base, args.tag)
        size = engine.image_size(args.tag)
        print(f"image {args.tag}: built in {time.monotonic() - started:.0f} s, {size / 1e6:.0f} MB", flush=True)
    except ImageError as error:
        print(f"image build failed: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
