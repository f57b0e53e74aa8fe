"""Deploys run in the test's own process: the engine's steps (what `doit deploy:<s>` calls), the real
databricks-sdk over HTTP, and the local workspace of a throw-away copy of the repo.

A subprocess `doit` costs seconds (interpreter, doit, SDK import); these cost a fraction of one,
so tests that need many deploys (the fault matrix, drift, orphans) stay fast. Each deploy gets a
fresh context read from disk, as a new `doit` process would.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

from databricks.sdk import WorkspaceClient

from tools.lakeflow import apply, context, core, plan, project, stage, targets
from tools.local_workspace import LocalWorkspace

SOURCE = "example"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
COPIED = ("libs", "pipeline", "targets.yaml", f"sources/{SOURCE}", "sources/interface")


def make_root(parent: Path, name: str = "repo") -> Path:
    """A copy of what deploy reads (no configs: connection values come from spec defaults)."""
    root = parent / name
    for part in COPIED:
        origin = project.REPO_ROOT / part
        if origin.is_dir():
            ignored = shutil.ignore_patterns("__pycache__", "configs")
            shutil.copytree(origin, root / part, ignore=ignored)
        else:
            (root / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, root / part)
    return root


def served(root: Path) -> LocalWorkspace:
    """The root's workspace, served from this process (by the engine, as a deploy would)."""
    targets.workspace_client(targets.selected_target(root), root)  # starts it, once per root
    return LocalWorkspace(project.lakeflow_dir(root) / "local")


def sdk(root: Path) -> WorkspaceClient:
    """A client of the root's workspace for out-of-band changes."""
    return targets.workspace_client(targets.selected_target(root), root)


def fresh_context(root: Path, name: str = SOURCE):
    """A context as a new `doit` process makes it: its own session, state read from disk."""
    stage.stage_source(name, root)
    session = core.Session(targets.selected_target(root), root)
    return context.prepare(name, root, session=session)


def run_deploy(root: Path, name: str = SOURCE) -> str:
    """What `doit deploy:<s>` does after staging (plan, workspace lock, apply every resource);
    returns what it printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        apply.deploy_source(fresh_context(root, name))
    return out.getvalue()


def run_plan(root: Path, name: str = SOURCE) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        plan.plan_deploy(fresh_context(root, name))
    return out.getvalue()


def writes_during(ws: LocalWorkspace, action) -> list[dict]:
    """The write requests the workspace served while `action()` ran."""
    before = len(ws.requests())
    action()
    return [r for r in ws.requests()[before:] if r["method"] in WRITES]


def workspace_state(ws: LocalWorkspace) -> dict:
    """The workspace's own record of everything in it (read from its store, not via the engine)."""
    return json.loads((ws.state_dir / "state.json").read_text())


def state_record(root: Path, name: str = SOURCE) -> dict:
    data = json.loads((project.lakeflow_dir(root) / "state" / "local.json").read_text())
    return data["sources"].get(name, {})


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))
