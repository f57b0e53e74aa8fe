"""`doit deploy` with no source: every source, in parallel under `doit -n`, only the changed ones
with LAKEFLOW_SINCE, each closing with its summary line; --fail-on-active-runs."""

from __future__ import annotations

import json
import re
import subprocess

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import apply
from tools.lakeflow.core import Change

SUMMARY = re.compile(
    r"^deploy (\w+): (\d+) created, (\d+) updated, (\d+) deleted, (\d+) unchanged$", re.M
)


def git(box: DoitSandbox, *args: str) -> None:
    subprocess.run(["git", *args], cwd=box.root, check=True, capture_output=True)


def test_deploy_all_in_parallel_then_only_what_changed_since_a_ref(tmp_path):
    box = DoitSandbox(tmp_path, sources=("example",))
    box.clone_source("example", "second")
    first = box.doit("-n", "2", "deploy")
    summaries = {m[0]: m[1:] for m in SUMMARY.findall(first.stdout)}
    assert set(summaries) == {"example", "second"}
    assert all(int(created) > 0 for created, *_ in summaries.values())
    recorded = json.loads((box.root / ".lakeflow/state/local.json").read_text())["sources"]
    assert {n: bool(recorded[n]["pipeline"]["pipeline_id"]) for n in summaries} == {
        "example": True,
        "second": True,
    }

    git(box, "init", "-q")
    git(box, "add", "-A")
    git(box, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    box.edit("sources/second/second.py", "\n\nSINCE_EDIT = 1\n")
    since = box.doit("deploy", env={"LAKEFLOW_SINCE": "HEAD"})
    assert "deploy example: skipped (no deploy input changed since HEAD)" in since.stdout
    (second,) = [m[1:] for m in SUMMARY.findall(since.stdout) if m[0] == "second"]
    assert second[1] != "0"  # updated: the changed files


def pipeline_change(state: str) -> Change:
    live = {"spec": {}, "latest_updates": [{"update_id": "u1", "state": state}]}
    return Change("pipeline", "p", "update", desired={}, live=live)


def test_an_active_update_is_found_only_on_a_pipeline_deploy_would_write():
    assert apply._active_update([pipeline_change("RUNNING")]) == "u1"
    assert apply._active_update([pipeline_change("COMPLETED")]) is None
    unchanged = pipeline_change("RUNNING")
    unchanged.action = "unchanged"
    assert apply._active_update([unchanged]) is None
