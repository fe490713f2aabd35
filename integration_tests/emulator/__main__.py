"""python -m integration_tests.emulator [--port 8123] [--seed 7] [--scale small] [--fault drop_mid_body]

Serves a local Iterable project until Ctrl-C and prints its URL and keys.
"""

from __future__ import annotations

import argparse
import json
import threading

from . import faults
from .dataset import PROJECT_TYPES, SCALES, TEMPLATE_TIME_FORMS, Dataset
from .handlers.jobs import ExportJobSettings
from .server import Emulator


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m integration_tests.emulator", description=__doc__.splitlines()[2])
    parser.add_argument("--port", type=int, default=8123, help="0 picks a free port (default 8123)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scale", "--dataset", default="small", help=f"data set size: {', '.join(SCALES)} or an integer multiplier"
    )
    parser.add_argument("--project-type", default="email", choices=PROJECT_TYPES)
    parser.add_argument(
        "--template-times",
        default="date-time",
        choices=TEMPLATE_TIME_FORMS,
        help="templates' createdAt/updatedAt: ISO-8601 (the API definition) or epoch ms (what real projects send)",
    )
    parser.add_argument(
        "--template-media-in-definition-only",
        action="store_true",
        help="GET templates answers 400 to messageMedium=Embedded (not in the API definition's enum)",
    )
    parser.add_argument("--template-count", type=int, default=None, help="an account of that many templates")
    parser.add_argument("--events-per-type", type=int, default=None, help="override the number of events per type")
    parser.add_argument("--no-rate-limits", action="store_true", help="disable Iterable's rate limits")
    parser.add_argument(
        "--job-time-scale",
        type=float,
        default=1.0,
        help="multiply export jobs' queue and processing delays (e.g. 0.01)",
    )
    parser.add_argument(
        "--job-file-bytes",
        type=int,
        default=ExportJobSettings.file_bytes,
        help="largest export-job file in bytes (default 10 MB)",
    )
    parser.add_argument(
        "--job-state-spelling",
        choices=("Title", "lower"),
        default="Title",
        help="serve job states as Running or running",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        help=f"a fault name ({', '.join(faults.FAULTS)}) with its defaults, or a"
        ' JSON spec, e.g. \'{"fault": "drop_mid_body", "after_lines": 3, "times": 1}\' (repeatable)',
    )
    args = parser.parse_args()
    scale = int(args.scale) if args.scale.isdigit() else args.scale
    dataset = Dataset(
        seed=args.seed,
        scale=scale,
        events_per_type=args.events_per_type,
        project_type=args.project_type,
        template_times=args.template_times,
        template_count=args.template_count,
    )
    job_settings = ExportJobSettings(
        time_scale=args.job_time_scale, file_bytes=args.job_file_bytes, state_spelling=args.job_state_spelling
    )
    emulator = Emulator(
        dataset,
        rate_limits={} if args.no_rate_limits else None,
        port=args.port,
        export_jobs=job_settings,
        template_media_in_definition_only=args.template_media_in_definition_only,
    )
    for spec in args.fault:
        emulator.inject(faults.from_spec(json.loads(spec) if spec.lstrip().startswith("{") else {"fault": spec}))
    with emulator:
        print(f"URL={emulator.url}")
        print(f"API_KEY={emulator.api_key}")
        print(f"READ_ONLY_API_KEY={emulator.read_only_key}")
        print(f"FILE_HOST_URL={emulator.file_host_url}")
        print("Faults: POST a JSON spec to /_emulator/faults; request log: GET /_emulator/requests.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")


if __name__ == "__main__":
    main()
