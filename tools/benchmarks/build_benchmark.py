"""Build benchmark: merge time for one connector and for all, and the cost of a no-op `doit`.

    python tools/benchmarks/build_benchmark.py [--source example] [--repeat 5]

Runs in a temporary copy of the repo so the working tree and its doit state are untouched.
Prints the figures; asserts nothing (performance is measured here, never in a timed test).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.engine.doit_sandbox import DoitSandbox  # noqa: E402
from tools.lakeflow import merge, project  # noqa: E402


def median_seconds(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="example")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    sources = project.source_names()

    one = median_seconds(lambda: merge.merge_source(args.source), args.repeat)
    every = median_seconds(lambda: [merge.merge_source(name) for name in sources], args.repeat)
    print(f"merge {args.source}: {one * 1000:.1f} ms (median of {args.repeat}, in-process)")
    print(f"merge all {len(sources)} sources: {every * 1000:.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        box = DoitSandbox(Path(tmp))
        start = time.perf_counter()
        box.doit()
        cold = time.perf_counter() - start
        noop = median_seconds(lambda: box.doit(), args.repeat)
        ran = box.ran()
        listing = subprocess.run(
            [sys.executable, "-m", "doit", "list", "--all"], cwd=tmp, capture_output=True
        )
        tasks = len(listing.stdout.splitlines())
    print(f"doit from a clean state (merge + stage of everything): {cold:.2f} s")
    print(f"no-op doit ({tasks} tasks, all up to date): {noop:.2f} s wall, process start included")
    print(f"tasks executed by the no-op run: {sorted(ran) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
