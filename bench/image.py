"""python -m bench.image [--image TAG] [--repeat 5]: the image's size, what takes the space, and its cold start.

Needs the image: `bash scripts/test_docker.sh` builds it (localhost/source-iterable:dev), or name another with
--image; the container CLI is podman unless --cli says otherwise, with the options this host needs
(integration_tests/image.py).

- Size: the image's and its base's, as the engine reports them; then what the Dockerfile's install added, per
  installed distribution (the sizes of the files each one's RECORD lists), largest first.
- Cold start: `spec` in a new container, --repeat times: the wall and CPU time of `source-iterable spec` inside the
  container (process start to exit, measured there; CPU time is the steadier figure on a shared machine), and the
  wall time of the whole `run` as the host sees it (container set-up and teardown included). Each run is a new
  container; the image's modules were compiled to bytecode at install.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time

from integration_tests.image import DEFAULT_TAG, Engine, ImageError, base_image_tag, image_exists

# Run inside the container: the wall time and CPU time (user + system) of one `source-iterable spec`, start to exit.
SPEC_TIMER = (
    "import resource, subprocess, time; started = time.perf_counter(); "
    "subprocess.run(['source-iterable', 'spec'], stdout=subprocess.DEVNULL, check=True); "
    "wall = time.perf_counter() - started; usage = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(wall, usage.ru_utime + usage.ru_stime)"
)
# Run inside the container: bytes per distribution installed under /usr/local (where the Dockerfile's pip installs).
DISTRIBUTION_SIZES = (
    "import importlib.metadata as m, json, os\n"
    "sizes = {}\n"
    "for dist in m.distributions():\n"
    "    paths = [str(f.locate()) for f in dist.files or []]\n"
    "    local = [p for p in paths if p.startswith('/usr/local/') and os.path.isfile(p)]\n"
    "    if local:\n"
    "        sizes[dist.metadata['Name']] = sum(os.path.getsize(p) for p in local)\n"
    "print(json.dumps(sizes))"
)
TOP = 12


def megabytes(size: float) -> str:
    return f"{size / 1e6:.0f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.image", description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=DEFAULT_TAG)
    parser.add_argument("--cli", default="podman")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    cli = shlex.split(args.cli)
    if not image_exists(cli, args.image):
        print(f"{args.image} not found: build it with `bash scripts/test_docker.sh`", file=sys.stderr)
        return 1
    try:
        engine = Engine.detect(cli, args.image)
    except ImageError as error:
        print(error, file=sys.stderr)
        return 1

    size = engine.image_size(args.image)
    base = base_image_tag()
    base_size = engine.image_size(base) if image_exists(cli, base) else None
    print(f"image {args.image}: {megabytes(size)}")
    if base_size is not None:
        print(f"  base {base}: {megabytes(base_size)}; added by the Dockerfile: {megabytes(size - base_size)}")
    listing = subprocess.run(
        engine.run_argv(args.image, "-c", DISTRIBUTION_SIZES, entrypoint="python"),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    sizes = sorted(json.loads(listing.stdout).items(), key=lambda item: -item[1])
    print(f"  installed under /usr/local: {megabytes(sum(s for _, s in sizes))} in {len(sizes)} distributions")
    for name, bytes_ in sizes[:TOP]:
        print(f"    {name:<32} {megabytes(bytes_):>8}")
    print(f"    {'(' + str(len(sizes) - TOP) + ' others)':<32} {megabytes(sum(s for _, s in sizes[TOP:])):>8}")

    inside, cpu, outside = [], [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        timing = subprocess.run(
            engine.run_argv(args.image, "-c", SPEC_TIMER, entrypoint="python"),
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        outside.append(time.perf_counter() - started)
        wall, seconds = timing.stdout.split()
        inside.append(float(wall))
        cpu.append(float(seconds))
    print(f"spec, {args.repeat} runs (first; median; min), seconds:")
    for label, runs in (
        ("inside a new container", inside),
        ("  its CPU time (user + system)", cpu),
        (f"`{cli[0]} run` seen by the host", outside),
    ):
        print(f"  {label:<30} {runs[0]:6.2f} {statistics.median(runs):6.2f} {min(runs):6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
