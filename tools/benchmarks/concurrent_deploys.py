"""Two `doit deploy:<s>` of different sources at once, N rounds: are both recorded every time?

    python tools/benchmarks/concurrent_deploys.py [--rounds 20]

In a temporary copy of the repo (the example connector and a clone of it, `twin`), each round
starts from an empty state store and an empty local workspace, runs `doit deploy:example` and
`doit deploy:twin` as two processes at the same moment, and then checks the state store: both
sources recorded with their files, connection and pipeline id, and the pipeline ids the ones
live in the workspace. Prints one line per round and the count; exits non-zero if any round lost
a record.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.engine.doit_sandbox import DoitSandbox  # noqa: E402

SOURCES = ("example", "twin")


def recorded_ok(root: Path) -> list[str]:
    """The problems with the round's records (empty when both are complete and live)."""
    state = json.loads((root / ".lakeflow/state/local.json").read_text())
    live = json.loads((root / ".lakeflow/local/state.json").read_text())["pipelines"]
    problems = []
    for name in SOURCES:
        record = state["sources"].get(name)
        if not record:
            problems.append(f"{name}: no record")
            continue
        staged = [p for p in (root / "build" / "stage" / name).rglob("*") if p.is_file()]
        if len(record.get("files", {})) != len(staged):
            problems.append(
                f"{name}: {len(record.get('files', {}))} of {len(staged)} files recorded"
            )
        if record.get("connection", {}).get("name") != f"{name}_connection":
            problems.append(f"{name}: connection not recorded")
        if record.get("pipeline", {}).get("pipeline_id") not in live:
            problems.append(f"{name}: pipeline id not recorded or not live")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        box = DoitSandbox(Path(tmp), sources=("example",))
        box.clone_source("example", "twin")
        good = 0
        for round_no in range(1, args.rounds + 1):
            shutil.rmtree(box.root / ".lakeflow" / "state", ignore_errors=True)
            shutil.rmtree(box.root / ".lakeflow" / "local", ignore_errors=True)
            started = time.perf_counter()
            runs = [box.start(f"deploy:{name}") for name in SOURCES]
            failed = []
            for name, run in zip(SOURCES, runs, strict=True):
                out, err = run.communicate(timeout=600)
                if run.returncode != 0:
                    failed.append(f"deploy:{name} exited {run.returncode}: {err.strip()[-200:]}")
            problems = failed or recorded_ok(box.root)
            good += not problems
            took = time.perf_counter() - started
            verdict = "both recorded" if not problems else "; ".join(problems)
            print(f"round {round_no:2}: {verdict} ({took:.1f}s)", flush=True)
        print(f"{good}/{args.rounds} rounds left both sources recorded")
        return 0 if good == args.rounds else 1


if __name__ == "__main__":
    sys.exit(main())
