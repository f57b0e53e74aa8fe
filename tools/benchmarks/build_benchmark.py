"""Build benchmark at scale: the everyday figures for today's sources and for N, side by side.

    python tools/benchmarks/build_benchmark.py --sources 200 [--repeat 3] [--repeat-no-op 21]
        [--nox-cold] [--skip-spark] [--skip-deploy]

Two temporary copies of the repo: one as it is, one with copies of `example` added until it has N
sources. In each it measures a no-op `doit`, `doit list`, `doit` after editing one connector and
after editing a shared lib (and which tasks ran), a cold and a warm `nox -s "test(<c>)"` (cold =
a new venv; "overhead" = the session minus pytest's own time), optionally `./dev nox` from a clean
clone (`--nox-cold`, long), `doit deploy:example` after a one-line edit with a cold and with a warm
Spark check, and no-op / one-edit deploys with 0 and 100 ms of latency injected into the local
workspace (LAKEFLOW_LOCAL_LATENCY_MS) next to a bare `import databricks.sdk`.

Times are wall-clock medians (the no-op rows: of runs alternating between the two copies); "cpu" is
the child processes' user+sys time, which shared cores distort much less. Bytecode is written as on
a developer's machine (PYTHONDONTWRITEBYTECODE is dropped). Prints a table; asserts nothing
(performance is measured here, never in a timed test).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.engine.doit_sandbox import RAN, DoitSandbox  # noqa: E402
from tools.lakeflow import project  # noqa: E402

PYTEST_TIME = re.compile(r" in ([0-9.]+)s")


@dataclass
class Sample:
    wall: float
    cpu: float
    out: str = ""


def run(command: list[str], cwd: Path, env: dict | None = None, check: bool = True) -> Sample:
    """Run a command; its wall time and its (and its children's) user+sys CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600, check=False
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return Sample(wall, cpu, result.stdout + result.stderr)


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples)
    )


class Bench:
    """One repo copy with `count` sources and the commands measured in it."""

    def __init__(self, root: Path, count: int):
        root.mkdir(parents=True)
        self.box = DoitSandbox(root)
        for index in range(count - len(project.source_names())):
            self.box.clone_source("example", f"gen{index:03d}")
        self.root = root
        self.sources = project.source_names(root)
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.env.update({"PYTHONPATH": str(root), "LAKEFLOW_SKIP_CHECK": "1"})

    def doit(self, *args: str, env: dict | None = None) -> Sample:
        return run([sys.executable, "-m", "doit", *args], self.root, {**self.env, **(env or {})})

    def repeat(self, times: int, *args: str, env: dict | None = None) -> Sample:
        return median([self.doit(*args, env=env) for _ in range(times)])

    def nox_test(self, target: str, envdir: Path) -> tuple[Sample, float]:
        """One `nox -s test(<target>)`; returns it and pytest's own reported seconds."""
        sample = run(
            [sys.executable, "-m", "nox", "-s", f"test({target})", "--envdir", str(envdir)],
            self.root,
            self.env,
        )
        found = PYTEST_TIME.findall(sample.out)
        return sample, float(found[-1]) if found else 0.0


def ran_count(sample: Sample) -> str:
    ran = RAN.findall(sample.out)
    kinds = sorted({name.split(":")[0] for name in ran})
    return f"{len(ran)} tasks ({', '.join(kinds) or 'none'})"


def no_op_figures(benches: list[Bench], times: int) -> list[dict[str, str | Sample]]:
    """No-op `doit` and `doit list` in each copy, runs interleaved across the copies: these take
    ~0.1 s, and a burst of load on a shared machine then lands on both sides of the ratio."""
    for bench in benches:
        bench.doit()  # the first full build, and the task-definition cache
    samples: list[dict[str, list[Sample]]] = [{} for _ in benches]
    for _ in range(times):
        for bench, taken in zip(benches, samples, strict=True):
            for label, args in (("no-op doit", ()), ("doit list", ("list",))):
                taken.setdefault(label, []).append(bench.doit(*args))
    return [{label: median(runs) for label, runs in taken.items()} for taken in samples]


def measure(bench: Bench, args) -> dict[str, str | Sample]:
    figures: dict[str, str | Sample] = {}
    bench.box.edit("sources/example/example.py", "\n\nBENCHMARK_EDIT = 1\n")
    one = bench.doit()
    figures["doit after editing one connector"] = one
    figures["  tasks run (one connector)"] = ran_count(one)
    bench.box.edit("libs/utils.py", "\n\nBENCHMARK_SHARED_EDIT = 1\n")
    shared = bench.doit()
    figures["doit after editing a shared lib"] = shared
    figures["  tasks run (shared lib)"] = ran_count(shared)

    envdir = bench.root / ".nox-bench"
    # an added connector (a copy of example) at N; example itself at today's count
    target = "gen000" if "gen000" in bench.sources else "example"
    cold, cold_tests = bench.nox_test(target, envdir)
    warm, warm_tests = bench.nox_test(target, envdir)
    figures["nox test(<c>) cold (new venv)"] = cold
    figures["  cold: overhead beyond its own tests (s)"] = f"{cold.wall - cold_tests:.2f}"
    figures["nox test(<c>) warm (venv reused)"] = warm
    figures["  warm: overhead beyond its own tests (s)"] = f"{warm.wall - warm_tests:.2f}"
    figures["  venv size (MB, hard links to the uv cache counted once)"] = (
        f"{sum(f.stat().st_size for f in envdir.rglob('*') if f.is_file()) / 1e6:.0f}"
    )
    if args.nox_cold and len(bench.sources) == len(project.source_names()):
        # today's sources only: at N the spark session alone would read N connectors in Spark
        figures["./dev nox from a clean clone (CI=true .ci/run)"] = ci_run(bench.root)

    if not args.skip_spark and (
        args.spark_at_n or len(bench.sources) == len(project.source_names())
    ):
        # the check reads one connector, whatever N is: at N only with --spark-at-n (minutes)
        figures.update(spark_figures(bench))
    if not args.skip_deploy:
        figures.update(deploy_figures(bench, args.repeat))
    return figures


def spark_figures(bench: Bench) -> dict[str, Sample]:
    """Edit → `doit deploy:example` with the Spark check: a new JVM, then the warm server."""
    figures: dict[str, Sample] = {}
    with_check = {"LAKEFLOW_SKIP_CHECK": ""}
    bench.doit("deploy:example", env={"LAKEFLOW_SKIP_CHECK": "1"})  # the deploy itself is warm
    for label, warm in (("cold Spark check", "0"), ("warm Spark check", "1")):
        env = {**with_check, "LAKEFLOW_SPARK_WARM": warm}
        if warm == "1":  # start the server and let it serve one check first
            bench.box.edit("sources/example/example.py", "\n\nWARMUP_EDIT = 1\n")
            bench.doit("deploy:example", env=env)
        bench.box.edit("sources/example/example.py", f"\n\nSPARK_EDIT_{warm} = 1\n")
        figures[f"edit -> deploy:example, {label}"] = bench.doit("deploy:example", env=env)
    bench.doit("spark_stop")
    return figures


# The floor a deploy is measured against: the SDK import alone, as a process (and, since every
# doit process freezes the GC at exit, also with that, which makes the floor lower, not higher).
SDK_IMPORTS = {
    "bare `import databricks.sdk`": "import databricks.sdk",
    "  the same, GC frozen at exit as doit does": (
        "import atexit, gc; atexit.register(gc.freeze); import databricks.sdk"
    ),
}


def deploy_figures(bench: Bench, repeat: int) -> dict[str, Sample]:
    figures: dict[str, Sample] = {}
    for label, code in SDK_IMPORTS.items():
        runs = [run([sys.executable, "-c", code], bench.root) for _ in range(repeat)]
        figures[label] = median(runs)
    for latency in ("0", "100"):
        env = {"LAKEFLOW_LOCAL_LATENCY_MS": latency}
        bench.doit("deploy:example", env=env)
        figures[f"no-op deploy:example, {latency} ms latency"] = bench.repeat(
            repeat, "deploy:example", env=env
        )
        edits = []
        for index in range(repeat):  # each run after its own one-line edit
            edit = f"\n\nLATENCY_EDIT_{latency}_{index} = 1\n"
            bench.box.edit("sources/example/example.py", edit)
            edits.append(bench.doit("deploy:example", env=env))
        figures[f"one-edit deploy:example, {latency} ms latency"] = median(edits)
    return figures


def ci_run(root: Path) -> Sample:
    clone = root.parent / f"{root.name}-ci"
    shutil.copytree(root, clone, ignore=shutil.ignore_patterns(".nox*", ".lakeflow", "build"))
    shutil.copytree(project.REPO_ROOT / ".ci", clone / ".ci")
    shutil.copy2(project.REPO_ROOT / "dev", clone / "dev")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(project.REPO_ROOT))
    )
    return run(["bash", ".ci/run"], clone, {**env, "CI": "true"}, check=False)


def cell(value: str | Sample) -> str:
    return value if isinstance(value, str) else f"{value.wall:7.2f} s (cpu {value.cpu:5.2f})"


def ratio(small: str | Sample, large: str | Sample) -> str:
    if isinstance(small, Sample) and isinstance(large, Sample) and small.wall > 0:
        cpu = f", cpu {large.cpu / small.cpu:.2f}x" if small.cpu > 0 else ""
        return f"{large.wall / small.wall:.2f}x{cpu}"
    return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--repeat-no-op", type=int, default=21, help="runs of the ~0.1 s no-op rows (interleaved)"
    )
    parser.add_argument("--nox-cold", action="store_true", help="also CI=true .ci/run (long)")
    parser.add_argument("--skip-spark", action="store_true")
    parser.add_argument("--spark-at-n", action="store_true", help="Spark rows at N sources too")
    parser.add_argument("--skip-deploy", action="store_true")
    args = parser.parse_args()
    today = len(project.source_names())
    with tempfile.TemporaryDirectory(prefix="lakeflow-bench-") as tmp:
        counts = (today, max(args.sources, today))
        benches = [Bench(Path(tmp) / f"repo{count}", count) for count in counts]
        print("measuring no-op doit ...", file=sys.stderr, flush=True)
        results = no_op_figures(benches, args.repeat_no_op)
        for count, bench, figures in zip(counts, benches, results, strict=True):
            print(f"measuring {count} sources ...", file=sys.stderr, flush=True)
            figures.update(measure(bench, args))
    small, large = results
    width = max(len(k) for k in small)
    print(f"{'figure':<{width}} | {today} sources{'':<14} | {args.sources} sources{'':<12} | ratio")
    print("-" * (width + 80))
    for key in small:
        print(
            f"{key:<{width}} | {cell(small[key]):<26} | {cell(large.get(key, '')):<26} | "
            f"{ratio(small[key], large.get(key, ''))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
