"""Fault matrix: a deploy killed or failed at every remote step converges on the next deploy.

Each case runs the real engine and databricks-sdk against the local workspace. The faulty deploy
runs in a forked child (the engine is imported once, so a case costs well under a second); the
workspace serves from this process, so it can SIGKILL the child right after applying a write and
before answering it, the worst moment: the write happened and nothing on the client recorded it.
Then the same deploy runs again, and the workspace and the state store must equal those of a
clean deploy: the same files, one connection, one schema, one pipeline, every id recorded, and a
further deploy writes nothing.
"""

from __future__ import annotations

import json
import os
import signal
import traceback

import pytest

from tests.engine.local_deploy import (
    SOURCE,
    edit,
    make_root,
    run_deploy,
    served,
    state_record,
    workspace_state,
    writes_during,
)
from tools.local_workspace import LocalWorkspace

# Where each remote step writes: (method, path regex, how many matching requests to let through).
STEPS = {
    "sync-mid-upload": ("POST", r"/workspace/import$", 3),
    "connection": ("POST", r"/unity-catalog/connections$", 0),
    "schema": ("POST", r"/unity-catalog/schemas$", 0),
    "pipeline-create": ("POST", r"/pipelines$", 0),
    "pipeline-update": ("PUT", r"/pipelines/", 0),
}
FAULTS = {
    "kill": {},  # SIGKILL right after the write is applied, before it is answered
    "429": {"status": 429, "retry_after": 1},
    "503": {"status": 503},
    "dropped": {"drop": True},
}


def deploy_in_child(root, arm) -> int:
    """Deploy in a forked child, once `arm(child_pid)` has set the fault up; the child's exit
    status (negative: the signal that killed it)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest
        os.close(write_end)
        os.read(read_end, 1)
        code = 0
        try:
            run_deploy(root)
        except BaseException:  # noqa: BLE001 - report, then exit non-zero like a failed doit
            traceback.print_exc()
            code = 1
        os._exit(code)
    os.close(read_end)
    arm(pid)
    os.write(write_end, b"go")
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def remote_snapshot(ws: LocalWorkspace) -> dict:
    """What is deployed, without ids and times: comparable between two workspaces."""
    state = workspace_state(ws)
    files = {
        path: obj.get("blob")
        for path, obj in state["workspace"].items()
        if obj["object_type"] != "DIRECTORY"
    }
    for path, digest in files.items():
        if path.endswith("/.lakeflow_manifest.json"):  # its modified_at values are times
            manifest = json.loads(ws.store.blob(digest))
            files[path] = {rel: entry["sha256"] for rel, entry in manifest.items()}
    pipelines = sorted(
        json.dumps({k: v for k, v in p["spec"].items() if k != "id"}, sort_keys=True)
        for p in state["pipelines"].values()
    )
    return {
        "files": files,
        "folders": sorted(
            p for p, o in state["workspace"].items() if o["object_type"] == "DIRECTORY"
        ),
        "connections": {
            n: (c["connection_type"], c["options"]) for n, c in state["connections"].items()
        },
        "schemas": sorted(state["schemas"]),
        "pipelines": pipelines,
    }


def local_record(root, ws: LocalWorkspace) -> dict:
    """The state store's record of the source, with the ids checked against the workspace."""
    source = state_record(root)
    live_ids = set(workspace_state(ws)["pipelines"])
    assert {source["pipeline"]["pipeline_id"]} == live_ids, "the state lost the live pipeline"
    return {
        "files": {rel: entry["sha256"] for rel, entry in source["files"].items()},
        "connection": source["connection"]["name"],
        "schema": source.get("schema", {}).get("full_name"),
    }


@pytest.fixture(scope="session")
def clean(tmp_path_factory):
    """A clean deploy, and a clean redeploy after the pipeline setting change: the references.
    Only read, so session-scoped: each xdist worker builds it once and the cases spread over the
    workers (a module-scoped fixture would keep them all on one, tests/conftest.py)."""
    root = make_root(tmp_path_factory.mktemp("clean"))
    ws = served(root)
    run_deploy(root)
    first = remote_snapshot(ws), local_record(root, ws)
    change_pipeline_setting(root)
    run_deploy(root)
    return {"first": first, "changed": (remote_snapshot(ws), local_record(root, ws))}


def change_pipeline_setting(root) -> None:
    edit(
        root / "sources" / SOURCE / "pipeline_spec.yaml", "development: true", "development: false"
    )


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("step", STEPS)
def test_a_deploy_interrupted_anywhere_converges_to_a_clean_deploy(tmp_path, clean, step, fault):
    root = make_root(tmp_path)
    ws = served(root)
    reference = "first"
    if step == "pipeline-update":  # an update needs a deployed pipeline with a changed setting
        run_deploy(root)
        change_pipeline_setting(root)
        reference = "changed"
    method, path, after = STEPS[step]
    marker = len(ws.requests())
    if fault == "kill":
        status = deploy_in_child(
            root, lambda pid: ws.inject_fault(method, path, after=after, kill_pid=pid)
        )
        assert status == -signal.SIGKILL, "the deploy was not killed at the step"
    else:
        deploy_in_child(
            root, lambda pid: ws.inject_fault(method, path, after=after, **FAULTS[fault])
        )
        statuses = [r["status"] for r in ws.requests()[marker:]]
        assert FAULTS[fault].get("status", 0) in statuses, "the fault never fired"

    run_deploy(root)
    assert (remote_snapshot(ws), local_record(root, ws)) == clean[reference]
    assert writes_during(ws, lambda: run_deploy(root)) == []
