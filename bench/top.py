"""python -m bench.top PROFILE.txt [N]: the top frames of a py-spy raw profile (`--format raw`), by thread.

Self samples (the frame on top of the stack) and cumulative samples (the frame anywhere in the stack), as a
share of each thread's samples: the N frames with most self samples, then the N with most cumulative samples
below the thread's entry points. Threads are grouped by name (MainThread, workerpool_N, others).
"""

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path


def main() -> None:
    path, top = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 15
    own: dict[str, Counter[str]] = defaultdict(Counter)
    anywhere: dict[str, Counter[str]] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        head = frames[0]
        thread = re.sub(r"_\d+$", "", head.split(": ", 1)[1]) if ": " in head else "MainThread"
        samples = int(count)
        totals[thread] += samples
        own[thread][frames[-1]] += samples
        for frame in set(frames[1:]):
            anywhere[thread][frame] += samples
    for thread, total in totals.most_common():
        print(f"\n## {thread}: {total} samples")
        print("| self % | cum % | frame |\n|---:|---:|---|")
        by_self = sorted(anywhere[thread], key=lambda f: (-own[thread][f], -anywhere[thread][f]))[:top]
        # Frames below the thread's entry points (present in under 90 % of its samples), by cumulative share.
        by_cum = [
            f
            for f in sorted(anywhere[thread], key=lambda f: -anywhere[thread][f])
            if anywhere[thread][f] < 0.9 * total and f not in by_self
        ][:top]
        for frame in by_self + by_cum:
            print(f"| {100 * own[thread][frame] / total:.1f} | {100 * anywhere[thread][frame] / total:.1f} | {frame} |")


if __name__ == "__main__":
    main()
