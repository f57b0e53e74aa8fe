"""Managed mode end to end: the real doit and SDK against the local workspace. The wheel goes to a
UC volume, the connection is COMMUNITY, the pipeline carries ingestion_definition; the same
guarantees as files mode (no-op writes nothing, in-place updates, drift restored, mode switches
planned and converging), plans as data, the deploy lock.

The tests run in file order on one sandbox (a deploy costs seconds): each starts from what the
previous one left deployed."""

from __future__ import annotations

import io
import json
import time

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service.catalog import VolumeType

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import deploy_lock
from tools.local_workspace import LocalWorkspace

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ROOT = "/Workspace/Users/local.developer@example.com/example"
VOLUME_DIR = "/Volumes/main/local_developer_example/lakeflow_connectors/example"
REGISTER_FLAG = "pipelines.managedIngestion.registerPythonDataSource"


def set_mode(box: DoitSandbox, mode: str) -> None:
    path = box.root / "sources/example/pipeline_spec.yaml"
    lines = [line for line in path.read_text().splitlines() if not line.startswith("mode:")]
    path.write_text("\n".join([f"mode: {mode}", *lines]) + "\n")


@pytest.fixture(scope="module")
def box(tmp_path_factory) -> DoitSandbox:
    sandbox = DoitSandbox(tmp_path_factory.mktemp("repo"), sources=("example",))
    set_mode(sandbox, "managed")
    return sandbox


@pytest.fixture(scope="module")
def ws(box):
    with LocalWorkspace(box.root / ".lakeflow" / "local") as workspace:
        yield workspace


def client(ws) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=ws.url, token=ws.token, retry_timeout_seconds=20))


def state(box) -> dict:
    return json.loads((box.root / ".lakeflow/local/state.json").read_text())


def writes_during(ws, run) -> tuple[object, list[dict]]:
    before = len(ws.requests())
    result = run()
    return result, [r for r in ws.requests()[before:] if r["method"] in WRITES]


def the_pipeline(box) -> dict:
    (pipeline,) = state(box)["pipelines"].values()
    return pipeline["spec"]


def test_managed_deploy_makes_volume_wheel_community_connection_and_ingestion_pipeline(box, ws):
    result = box.doit("deploy:example")
    assert "deploy example: 5 created" in result.stdout
    workspace = state(box)
    assert "main.local_developer_example.lakeflow_connectors" in workspace["volumes"]
    (wheel_path,) = [p for p in workspace["files"] if p.startswith(VOLUME_DIR)]
    assert wheel_path.endswith("/lakeflow_connector_example-0.1.0-py3-none-any.whl")
    assert workspace["connections"]["example_connection"]["connection_type"] == "COMMUNITY"
    spec = the_pipeline(box)
    assert "libraries" not in spec and spec["serverless"] is True
    assert spec["environment"] == {"dependencies": [wheel_path]}
    assert spec["configuration"][REGISTER_FLAG] == "true"
    definition = spec["ingestion_definition"]
    assert (definition["source_type"], definition["connection_name"]) == (
        "COMMUNITY",
        "example_connection",
    )
    tables = {o["table"]["source_table"]: o["table"] for o in definition["objects"]}
    assert set(tables) == {"products", "customers", "orders", "events"}
    assert tables["events"]["destination_table"] == "example_events"
    assert tables["customers"]["table_configuration"]["scd_type"] == "SCD_TYPE_2"
    assert {t["source_schema"] for t in tables.values()} == {"default"}
    assert not [p for p in workspace["workspace"] if p.startswith(ROOT + "/")]  # no files synced
    assert "COMPLETED" in box.doit("run:example").stdout


def test_a_second_managed_deploy_writes_nothing(box, ws):
    result, writes = writes_during(ws, lambda: box.doit("deploy:example"))
    assert writes == []
    assert "0 created, 0 updated, 0 deleted, 5 unchanged" in result.stdout


def test_a_one_line_edit_uploads_a_new_wheel_and_updates_the_pipeline_in_place(box, ws):
    before_id = next(iter(state(box)["pipelines"]))
    old_wheel = the_pipeline(box)["environment"]["dependencies"][0]
    box.edit("sources/example/example.py", "\n\nMANAGED_EDIT_MARKER = 1\n")
    _, writes = writes_during(ws, lambda: box.doit("deploy:example"))
    kinds = sorted((w["method"], w["path"].split("/")[3]) for w in writes)
    # the new wheel, the pipeline, the old wheel gone; the deploy lock (create, delete)
    assert kinds == [
        ("DELETE", "fs"),
        ("POST", "workspace"),
        ("POST", "workspace"),
        ("PUT", "fs"),
        ("PUT", "pipelines"),
    ], writes
    new_wheel = the_pipeline(box)["environment"]["dependencies"][0]
    assert new_wheel != old_wheel and old_wheel not in state(box)["files"]
    assert next(iter(state(box)["pipelines"])) == before_id  # updated, not recreated


def test_drift_is_shown_and_restored(box, ws):
    c = client(ws)
    wheel_path = the_pipeline(box)["environment"]["dependencies"][0]
    c.files.delete(wheel_path)
    pipeline_id = next(iter(state(box)["pipelines"]))
    spec = the_pipeline(box)
    c.api_client.do(
        "PUT",
        f"/api/2.0/pipelines/{pipeline_id}",
        body={**spec, "configuration": {}, "pipeline_id": pipeline_id},
    )
    plan = box.doit("plan:example").stdout
    assert f"update    wheel {wheel_path} (restore)" in plan
    assert "update    pipeline local_developer_example" in plan
    box.doit("deploy:example")
    assert wheel_path in state(box)["files"]
    assert the_pipeline(box)["configuration"][REGISTER_FLAG] == "true"


def test_switching_modes_is_planned_and_converges_both_ways(box, ws):
    set_mode(box, "files")
    plan = box.doit("plan:example").stdout
    assert "connection example_connection (type COMMUNITY → GENERIC_LAKEFLOW_CONNECT" in plan
    assert "update    pipeline local_developer_example" in plan
    assert "create    file ingest.py" in plan and "delete    wheel " in plan
    box.doit("deploy:example")
    spec = the_pipeline(box)
    assert "ingestion_definition" not in spec and "environment" not in spec
    assert spec["libraries"] == [{"file": {"path": f"{ROOT}/ingest.py"}}]
    conn = state(box)["connections"]["example_connection"]
    assert conn["connection_type"] == "GENERIC_LAKEFLOW_CONNECT"
    assert not [p for p in state(box)["files"] if p.startswith(VOLUME_DIR)]
    _, writes = writes_during(ws, lambda: box.doit("deploy:example"))
    assert writes == []
    assert "COMPLETED" in box.doit("run:example").stdout

    set_mode(box, "managed")
    assert "delete    file ingest.py" in box.doit("plan:example").stdout
    box.doit("deploy:example")
    assert "ingestion_definition" in the_pipeline(box) and "libraries" not in the_pipeline(box)
    assert not [p for p in state(box)["workspace"] if p.endswith("/ingest.py")]
    _, writes = writes_during(ws, lambda: box.doit("deploy:example"))
    assert writes == []
    assert len(state(box)["pipelines"]) == 1


def test_a_json_plan_is_applied_exactly_and_refused_once_inputs_moved(box, ws, tmp_path):
    plan_file = tmp_path / "plan.json"
    box.edit("sources/example/example.py", "\n\nPLANNED_EDIT = 1\n")
    box.doit("plan:example", "--json", str(plan_file))
    document = json.loads(plan_file.read_text())
    writes = {(c["kind"], c["action"]) for c in document["changes"] if c["action"] != "unchanged"}
    assert writes == {("wheel", "create"), ("wheel", "delete"), ("pipeline", "update")}
    (pipeline,) = [c for c in document["changes"] if c["kind"] == "pipeline"]
    assert pipeline["action"] == "update"
    assert set(pipeline["fields"]) == {"environment"}
    assert pipeline["fields"]["environment"]["old"] != pipeline["fields"]["environment"]["new"]
    assert document["summary"]["create"] == 1 and len(document["inputs"]["fingerprint"]) == 64

    box.edit("sources/example/example.py", "\n\nUNREVIEWED_EDIT = 1\n")
    refused = box.doit("deploy:example", "--plan", str(plan_file), check=False)
    assert refused.returncode != 0
    assert "inputs changed since the plan was made" in refused.stderr
    assert "wheel/" in refused.stderr or "stage/" in refused.stderr

    box.doit("plan:example", "--json", str(plan_file))
    applied = box.doit("deploy:example", "--plan", str(plan_file))
    assert "inputs and remote state as reviewed" in applied.stdout
    assert "1 created, 1 updated, 1 deleted" in applied.stdout


def test_a_plan_is_refused_once_remote_state_moved(box, ws, tmp_path):
    plan_file = tmp_path / "plan.json"
    box.doit("plan:example", "--json", str(plan_file))
    c = client(ws)
    c.files.delete(the_pipeline(box)["environment"]["dependencies"][0])
    refused = box.doit("deploy:example", "--plan", str(plan_file), check=False)
    assert refused.returncode != 0
    assert "remote state changed since the plan was made: wheel /Volumes/" in refused.stderr
    box.doit("deploy:example")


def test_a_held_lock_makes_a_deploy_fail_naming_the_holder_until_forced(box, ws):
    c = client(ws)
    box.edit("sources/example/example.py", "\n\nLOCKED_EDIT = 1\n")
    holder = deploy_lock.acquire(c, ROOT, "colleague@example.com")
    env = {"LAKEFLOW_DEPLOY_LOCK_WAIT": "1"}
    blocked, writes = writes_during(ws, lambda: box.doit("deploy:example", check=False, env=env))
    assert blocked.returncode != 0
    assert "deploy locked by colleague@example.com" in blocked.stderr
    assert [w for w in writes if not w["path"].startswith("/api/2.0/workspace/")] == []
    forced = box.doit("deploy:example", "--force-lock")
    assert "taken over from colleague@example.com" in forced.stdout
    assert not deploy_lock.release(c, ROOT, holder)
    assert deploy_lock.read_holder(c, ROOT) is None


def test_the_local_workspace_fails_a_managed_update_whose_wheel_does_not_install(tmp_path):
    with LocalWorkspace(tmp_path / "ws") as workspace:
        c = client(workspace)
        c.schemas.create(name="s", catalog_name="main")
        c.volumes.create(
            catalog_name="main", schema_name="s", name="v", volume_type=VolumeType.MANAGED
        )
        wheel_path = "/Volumes/main/s/v/example/lakeflow_connector_example-0.1.0-py3-none-any.whl"
        c.files.upload(wheel_path, io.BytesIO(b"not a wheel"), overwrite=True)
        body = {"name": "c", "connection_type": "GENERIC_LAKEFLOW_CONNECT", "options": {}}
        c.api_client.do("POST", "/api/2.1/unity-catalog/connections", body=body)
        table = {"source_table": "t", "destination_catalog": "main", "destination_schema": "s"}
        created = c.api_client.do(
            "POST",
            "/api/2.0/pipelines",
            body={
                "name": "p",
                "serverless": True,
                "ingestion_definition": {
                    "source_type": "COMMUNITY",
                    "connection_name": "c",
                    "objects": [{"table": table}],
                },
                "environment": {"dependencies": [wheel_path, "/Volumes/main/s/v/missing.whl"]},
            },
        )
        pipeline_id = created["pipeline_id"]
        update_id = c.pipelines.start_update(pipeline_id).update_id
        deadline = time.monotonic() + 20
        while c.pipelines.get_update(pipeline_id, update_id).update.state.value not in (
            "COMPLETED",
            "FAILED",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert c.pipelines.get_update(pipeline_id, update_id).update.state.value == "FAILED"
        errors = {
            e.message
            for e in c.pipelines.list_pipeline_events(pipeline_id)
            if e.level.value == "ERROR"
        }
        assert errors == {
            "connection c is GENERIC_LAKEFLOW_CONNECT, not COMMUNITY",
            f'configuration {REGISTER_FLAG} is not "true": no data source registered',
            f"{wheel_path}: not a zip archive",
            "/Volumes/main/s/v/missing.whl does not exist",
        }
