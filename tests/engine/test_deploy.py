"""`doit deploy:<s>` end to end: the real doit, the real databricks-sdk over HTTP, the local workspace.

Each test works in its own temporary copy of the repo, whose `.lakeflow/local/` is the workspace.
"""

from __future__ import annotations

import json
import re

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config

from tests.engine.doit_sandbox import DoitSandbox
from tools.local_workspace import LocalWorkspace

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
EXAMPLE_KEY = "example-key-not-a-secret"
UPLOAD = re.compile(r"^  upload (\S+) \((.+)\)$", re.MULTILINE)


@pytest.fixture
def box(tmp_path) -> DoitSandbox:
    return DoitSandbox(tmp_path, sources=("example",))


@pytest.fixture
def workspace(box):
    """The sandbox's workspace, served in this process too, for out-of-band changes."""
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        yield ws


def client(ws: LocalWorkspace) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=ws.url, token=ws.token, retry_timeout_seconds=20))


def deploy(box, check=True, env=None):
    return box.doit("deploy:example", check=check, env=env)


def requests_since(ws: LocalWorkspace, count: int) -> list[dict]:
    return ws.requests()[count:]


def writes(lines: list[dict]) -> list[dict]:
    return [r for r in lines if r["method"] in WRITES]


def without_lock(lines: list[dict]) -> list[dict]:
    """The writes of a deploy minus its workspace deploy lock: created first, deleted last."""
    found = writes(lines)
    if found and found[0]["path"].endswith("/workspace/import"):
        if found[-1]["path"].endswith("/workspace/delete"):
            return found[1:-1]
    return found


def uploads(result) -> dict[str, str]:
    return dict(UPLOAD.findall(result.stdout))


def remote_root(ws) -> str:
    return "/Workspace/Users/local.developer@example.com/example"


def test_second_deploy_writes_nothing(box, workspace):
    first = deploy(box)
    assert len(uploads(first)) == 9
    before = len(workspace.requests())
    second = deploy(box)
    assert uploads(second) == {}
    new = requests_since(workspace, before)
    assert new, "the second deploy made no checks at all"
    assert writes(new) == []


def test_an_edit_is_planned_then_deployed_alone(box, workspace):
    """Edit one connector file: plan lists exactly what changed and writes nothing; deploy uploads
    exactly that; afterwards the plan is empty."""
    deploy(box)
    box.edit("sources/example/example.py", "\n\nEXAMPLE_EDIT_MARKER = 1\n")
    before = len(workspace.requests())
    out = box.doit("plan:example").stdout
    changed = [
        "sources/example/_generated_example_python_source.py",
        "sources/example/example.py",
    ]
    assert sorted(re.findall(r"^  update\s+file (\S+)", out, re.MULTILINE)) == changed
    assert "Plan: 0 to add, 2 to change, 0 to delete" in out
    assert writes(requests_since(workspace, before)) == []
    assert uploads(deploy(box)) == dict.fromkeys(changed, "changed")
    assert "Plan: 0 to add, 0 to change, 0 to delete" in box.doit("plan:example").stdout


def test_out_of_band_deletions_are_repaired(box, workspace):
    """A deployed file and the pipeline deleted by hand: deploy restores the one file and
    recreates the pipeline, nothing else."""
    deploy(box)
    sdk = client(workspace)
    sdk.workspace.delete(f"{remote_root(workspace)}/libs/utils.py")
    sdk.pipelines.delete(next(iter(sdk.pipelines.list_pipelines())).pipeline_id)
    result = deploy(box)
    assert uploads(result) == {"libs/utils.py": "restore"}
    assert "created" in result.stdout
    assert len(list(sdk.pipelines.list_pipelines())) == 1


def test_a_fresh_clone_uploads_nothing(box, workspace):
    deploy(box)
    (box.root / ".lakeflow" / "state" / "local.json").unlink()
    before = len(workspace.requests())
    result = deploy(box)
    assert uploads(result) == {}
    paths = {r["path"] for r in without_lock(requests_since(workspace, before))}
    assert not any("/workspace/" in p for p in paths), paths


def test_connection_updated_only_when_an_option_changes_and_secrets_stay_secret(box, workspace):
    first = deploy(box)
    before = len(workspace.requests())
    deploy(box)
    connection_writes = [
        r for r in writes(requests_since(workspace, before)) if "connections" in r["path"]
    ]
    assert connection_writes == []

    before = len(workspace.requests())
    changed = deploy(box, env={"LAKEFLOW_EXAMPLE_SEED": "99"})
    assert [r["method"] for r in without_lock(requests_since(workspace, before))] == ["PATCH"]
    assert "seed=99" in changed.stdout and "api_key=***" in changed.stdout

    for text in (
        first.stdout + first.stderr + changed.stdout,
        (box.root / ".lakeflow" / "state" / "local.json").read_text(),
        (box.root / ".lakeflow" / "local" / "requests.jsonl").read_text(),
        *(p.read_text() for p in (box.root / "build" / "stage").rglob("*.py")),
    ):
        assert EXAMPLE_KEY not in text


def test_pipeline_is_updated_in_place_keeping_unmanaged_settings(box, workspace):
    deploy(box)
    sdk = client(workspace)
    status = next(iter(sdk.pipelines.list_pipelines()))
    pipeline_id = status.pipeline_id
    spec = sdk.api_client.do("GET", f"/api/2.0/pipelines/{pipeline_id}")["spec"]
    sdk.api_client.do(
        "PUT",
        f"/api/2.0/pipelines/{pipeline_id}",
        body={**spec, "photon": True, "pipeline_id": pipeline_id},
    )
    spec_file = box.root / "sources/example/pipeline_spec.yaml"
    spec_file.write_text(spec_file.read_text().replace("development: true", "development: false"))
    before = len(workspace.requests())
    assert "updated" in deploy(box).stdout
    new_writes = without_lock(requests_since(workspace, before))
    assert [(r["method"], r["path"]) for r in new_writes] == [
        ("PUT", f"/api/2.0/pipelines/{pipeline_id}")
    ]
    live = sdk.pipelines.get(pipeline_id).spec
    assert live.development is False and live.photon is True
    assert [s.pipeline_id for s in sdk.pipelines.list_pipelines()] == [pipeline_id]


def test_429_and_503_are_retried(box, workspace):
    workspace.inject_fault("GET", r"/workspace/list", status=429, retry_after=1, times=1)
    workspace.inject_fault("POST", r"/workspace/import", status=503, times=1, after=2)
    workspace.inject_fault("POST", r"/connections", status=503, times=1)
    result = deploy(box)
    assert len(uploads(result)) == 9
    statuses = [r["status"] for r in workspace.requests()]
    assert 429 in statuses and statuses.count(503) == 2


def test_an_interrupted_deploy_converges(box, workspace):
    # One of the nine uploads fails for good: the deploy fails after the others landed. (The
    # first two imports are the deploy lock's: the first finds no folder yet, mkdirs, then
    # succeeds.)
    workspace.inject_fault("POST", r"/workspace/import", status=400, times=1, after=5)
    failed = deploy(box, check=False)
    assert failed.returncode != 0
    assert len(uploads(failed)) == 8
    resumed = deploy(box)
    assert len(uploads(resumed)) == 1, "the files already uploaded were uploaded again"
    assert not set(uploads(failed)) & set(uploads(resumed))  # the one that failed, only
    before = len(workspace.requests())
    deploy(box)
    assert writes(requests_since(workspace, before)) == []


# One bad field end to end (one line naming file and field, exit non-zero, no request); every
# other field's error is a unit test (tests/unit/test_specs.py, test_options.py).
@pytest.mark.parametrize(
    ("file", "old", "new", "field"),
    [("pipeline_spec.yaml", "scd_type: SCD_TYPE_2", "scd_type: SCD_TYPE_9", "scd_type")],
)
def test_bad_specs_are_rejected_before_any_request(box, workspace, file, old, new, field):
    path = box.root / "sources/example" / file
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    before = len(workspace.requests())
    result = deploy(box, check=False)
    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert f"sources/example/{file}" in error and field in error
    assert workspace.requests()[before:] == []


def test_run_completes_and_a_scd_change_needs_a_full_refresh(box, workspace):
    deploy(box)
    run = box.doit("run:example")
    assert "COMPLETED" in run.stdout
    spec_file = box.root / "sources/example/pipeline_spec.yaml"
    spec_file.write_text(spec_file.read_text().replace("SCD_TYPE_2", "SCD_TYPE_1"))
    assert "--full-refresh" in deploy(box).stdout
    refused = box.doit("run:example", check=False)
    assert refused.returncode != 0 and "--full-refresh" in refused.stderr
    assert "COMPLETED" in box.doit("run:example", "--full-refresh").stdout
    assert "COMPLETED" in box.doit("run:example").stdout


def test_a_failed_update_prints_its_errors_and_fails(box, workspace):
    deploy(box)
    client(workspace).workspace.delete(
        f"{remote_root(workspace)}/sources/example/_generated_example_python_source.py"
    )
    result = box.doit("run:example", check=False)
    assert result.returncode != 0
    assert "FAILED" in result.stdout and "_generated_example_python_source.py" in result.stderr


def test_destroy_needs_yes_and_removes_what_deploy_created(box, workspace):
    deploy(box)
    assert box.doit("destroy:example", check=False).returncode != 0
    box.doit("destroy:example", "--yes")
    sdk = client(workspace)
    assert list(sdk.pipelines.list_pipelines()) == []
    assert json.loads((box.root / ".lakeflow/state/local.json").read_text())["sources"] == {}
    assert len(uploads(deploy(box))) == 9


def test_two_sources_deployed_at_once_are_both_recorded(tmp_path):
    """Two real `doit deploy:<s>` of different sources at once: both land in the one state store."""
    box = DoitSandbox(tmp_path, sources=("example",))
    box.clone_source("example", "twin")
    runs = [box.start("deploy:example"), box.start("deploy:twin")]
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, f"{out}\n{err}"
    state = json.loads((box.root / ".lakeflow/state/local.json").read_text())
    for name in ("example", "twin"):
        record = state["sources"][name]
        assert len(record["files"]) == 9 and record["pipeline"]["pipeline_id"], name
        assert record["connection"]["name"] == f"{name}_connection"
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        before = len(ws.requests())
        assert "Plan: 0 to add, 0 to change, 0 to delete" in box.doit("plan:twin").stdout
        assert writes(requests_since(ws, before)) == []
