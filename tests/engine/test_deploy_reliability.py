"""Nothing lost, drift seen and healed, no orphans: deploys in this process through the real
databricks-sdk against a throw-away repo's local workspace (tests/engine/local_deploy.py)."""

from __future__ import annotations

import base64
import json
import re

import pytest
from databricks.sdk.service.workspace import ImportFormat

from tests.engine.local_deploy import (
    SOURCE,
    edit,
    fresh_context,
    make_root,
    run_deploy,
    run_plan,
    sdk,
    served,
    state_record,
    workspace_state,
    writes_during,
)
from tools.lakeflow import core, deploy_lock, destroy

USER_FOLDER = "/Workspace/Users/local.developer@example.com"
FOLDER = f"{USER_FOLDER}/{SOURCE}"
CONNECTIONS = "/api/2.1/unity-catalog/connections"


@pytest.fixture
def root(tmp_path):
    root = make_root(tmp_path)
    served(root)
    run_deploy(root)
    return root


def stage_dir(root):
    return root / "build" / "stage" / SOURCE


def spec_file(root):
    return root / "sources" / SOURCE / "pipeline_spec.yaml"


def live_pipeline(root) -> dict:
    (pipeline,) = workspace_state(served(root))["pipelines"].values()
    return pipeline["spec"]


def edit_pipeline_out_of_band(root, **changes) -> None:
    client = sdk(root)
    (pipeline_id,) = workspace_state(served(root))["pipelines"]
    spec = client.api_client.do("GET", f"/api/2.0/pipelines/{pipeline_id}")["spec"]
    body = {**spec, **changes, "pipeline_id": pipeline_id}
    client.api_client.do("PUT", f"/api/2.0/pipelines/{pipeline_id}", body=body)


def plan_lines(out: str) -> dict[str, str]:
    """'kind name' → the plan line's action and reason."""
    found = {}
    for action, kind, name, rest in re.findall(r"^  (\w+)\s+(\w+) (\S+)(.*)$", out, re.M):
        found[f"{kind} {name}"] = f"{action}{rest}"
    return found


# -- 1. no lost settings ------------------------------------------------------------------------
def test_pipeline_settings_deploy_does_not_own_survive_key_by_key(root):
    edit_pipeline_out_of_band(
        root,
        configuration={**live_pipeline(root)["configuration"], "team.owner": "data-eng"},
        tags={"cost_center": "42"},
        clusters=[{"label": "default", "num_workers": 2}],
        notifications=[
            {"email_recipients": ["oncall@example.com"], "alerts": ["on-update-failure"]}
        ],
    )
    edit(spec_file(root), "configuration: {}", "configuration: {batch.size: '10'}")
    assert "updated" in run_deploy(root)
    live = live_pipeline(root)
    assert live["configuration"] == {
        "team.owner": "data-eng",
        "batch.size": "10",
        "source_name": SOURCE,
    }
    assert live["tags"] == {"cost_center": "42"}
    assert live["clusters"] == [{"label": "default", "num_workers": 2}]
    assert live["notifications"][0]["email_recipients"] == ["oncall@example.com"]

    # A key deploy wrote and no longer wants goes; the one it never wrote stays.
    edit(spec_file(root), "configuration: {batch.size: '10'}", "configuration: {}")
    run_deploy(root)
    assert live_pipeline(root)["configuration"] == {"team.owner": "data-eng", "source_name": SOURCE}
    assert writes_during(served(root), lambda: run_deploy(root)) == []


def test_job_settings_deploy_does_not_own_survive_the_core_merge(root):
    """The notebook path's scheduled jobs go through core.job_change / core.write_job."""
    client = sdk(root)
    first = {
        "name": "example_schedule",
        "schedule": {"quartz_cron_expression": "0 0 * * * ?", "timezone_id": "UTC"},
        "tags": {"lakeflow_source": SOURCE},
    }
    job_id = core.write_job(client, "create", None, first)
    live = core.read_job(client, job_id)
    oob = {
        **live["settings"],
        "email_notifications": {"on_failure": ["oncall@example.com"]},
        "tags": {**live["settings"]["tags"], "cost_center": "42"},
    }
    client.api_client.do(
        "POST", "/api/2.2/jobs/reset", body={"job_id": job_id, "new_settings": oob}
    )
    desired = {**first, "schedule": {**first["schedule"], "quartz_cron_expression": "0 30 * * * ?"}}
    action, settings = core.job_change(
        core.read_job(client, job_id), desired, core.owned_paths(first)
    )
    assert action == "update"
    core.write_job(client, action, core.read_job(client, job_id), settings)
    now = core.read_job(client, job_id)["settings"]
    assert now["schedule"]["quartz_cron_expression"] == "0 30 * * * ?"
    assert now["email_notifications"] == {"on_failure": ["oncall@example.com"]}
    assert now["tags"] == {"lakeflow_source": SOURCE, "cost_center": "42"}


# -- 3. drift seen and healed -------------------------------------------------------------------
def test_connection_options_edited_out_of_band_are_planned_and_restored(root):
    client = sdk(root)
    live = client.api_client.do("GET", f"{CONNECTIONS}/example_connection")["options"]
    tampered = {**live, "externalOptionsAllowList": "page_size", "seed": "7"}
    client.api_client.do("PATCH", f"{CONNECTIONS}/example_connection", body={"options": tampered})
    planned = plan_lines(run_plan(root))
    assert planned["connection example_connection"] == (
        "update (drift: externalOptionsAllowList, seed)"
    )
    run_deploy(root)
    healed = client.api_client.do("GET", f"{CONNECTIONS}/example_connection")["options"]
    assert healed == live
    assert plan_lines(run_plan(root))["connection example_connection"] == "unchanged"


def test_a_readable_secret_option_is_compared_by_salted_hash(tmp_path):
    # Databricks (and the local workspace, for names like api_key) does not return secret
    # options; one it does return is compared by salted hash, and its value is never shown.
    root = make_root(tmp_path)
    edit(
        root / "sources" / SOURCE / "connector_spec.yaml",
        "    - name: seed\n",
        "    - name: passphrase\n      secret: true\n      default: first-passphrase\n"
        "    - name: seed\n",
    )
    served(root)
    run_deploy(root)
    client = sdk(root)
    live = client.api_client.do("GET", f"{CONNECTIONS}/example_connection")["options"]
    assert live["passphrase"] == "first-passphrase"  # readable here
    rotated = {**live, "passphrase": "rotated-by-someone"}
    client.api_client.do("PATCH", f"{CONNECTIONS}/example_connection", body={"options": rotated})
    out = run_plan(root)
    assert plan_lines(out)["connection example_connection"] == "update (drift: passphrase)"
    assert "rotated-by-someone" not in out and "first-passphrase" not in out
    deployed = run_deploy(root)
    assert "passphrase=***" in deployed and "first-passphrase" not in deployed
    live = client.api_client.do("GET", f"{CONNECTIONS}/example_connection")["options"]
    assert live["passphrase"] == "first-passphrase"
    state = (root / ".lakeflow" / "state" / "local.json").read_text()
    assert "first-passphrase" not in state and "rotated-by-someone" not in state


def test_owned_pipeline_settings_changed_out_of_band_are_planned_and_restored(root):
    edit_pipeline_out_of_band(
        root,
        development=False,
        configuration={"source_name": "other", "team.owner": "data-eng"},
    )
    planned = plan_lines(run_plan(root))
    assert planned["pipeline local_developer_example"] == (
        "update (drift: configuration.source_name, development)"
    )
    run_deploy(root)
    live = live_pipeline(root)
    assert live["development"] is True
    assert live["configuration"] == {"source_name": SOURCE, "team.owner": "data-eng"}


@pytest.mark.parametrize("manifest", ["missing", "corrupt"])
def test_a_missing_or_corrupt_manifest_is_rebuilt_from_a_listing_and_hashes(root, manifest):
    client = sdk(root)
    (root / ".lakeflow" / "state" / "local.json").unlink()  # a fresh clone: only the workspace
    if manifest == "missing":
        client.workspace.delete(f"{FOLDER}/.lakeflow_manifest.json")
    else:
        client.workspace.import_(
            f"{FOLDER}/.lakeflow_manifest.json",
            content=base64.b64encode(b"{not json").decode(),
            overwrite=True,
            format=ImportFormat.AUTO,
        )
    # One file edited out of band while the manifest was broken: only it is uploaded.
    client.workspace.import_(
        f"{FOLDER}/libs/utils.py",
        content=base64.b64encode(b"# edited\n").decode(),
        overwrite=True,
        format=ImportFormat.AUTO,
    )
    out = run_deploy(root)
    assert re.findall(r"^  upload (\S+)", out, re.M) == ["libs/utils.py"]
    rebuilt = json.loads(
        base64.b64decode(client.workspace.export(f"{FOLDER}/.lakeflow_manifest.json").content)
    )
    staged = {p.relative_to(stage_dir(root)).as_posix() for p in stage_dir(root).rglob("*.py")}
    assert set(rebuilt) == set(state_record(root)["files"]) == staged
    assert writes_during(served(root), lambda: run_deploy(root)) == []


# -- 4. no orphans ------------------------------------------------------------------------------
def test_a_renamed_connection_and_schema_are_planned_for_deletion_and_deleted(root):
    edit(spec_file(root), "connection_name: example_connection", "connection_name: example_conn_v2")
    edit(spec_file(root), "  catalog: main\n", "  catalog: main\n  schema: example_v2\n")
    planned = plan_lines(run_plan(root))
    assert planned["connection example_connection"] == "delete (renamed to example_conn_v2)"
    assert planned["schema main.local_developer_example"] == "delete (renamed to main.example_v2)"
    assert planned["connection example_conn_v2"] == "create"
    out = run_deploy(root)
    assert "deleted connection example_connection" in out
    state = workspace_state(served(root))
    assert set(state["connections"]) == {"example_conn_v2"}
    assert set(state["schemas"]) == {"main.example_v2"}
    assert live_pipeline(root)["schema"] == "example_v2"


def test_destroy_without_local_state_finds_what_deploy_made_and_removes_its_folders(root, capsys):
    client = sdk(root)
    client.workspace.import_(
        f"{FOLDER}/notes.py",
        content=base64.b64encode(b"# the user's own file\n").decode(),
        format=ImportFormat.AUTO,
    )
    deployed = len(state_record(root)["files"])
    (root / ".lakeflow" / "state" / "local.json").unlink()
    destroy.destroy_source(fresh_context(root), confirmed=True)
    out = capsys.readouterr().out
    state = workspace_state(served(root))
    assert state["pipelines"] == {} and state["connections"] == {} and state["schemas"] == {}
    left = sorted(p for p in state["workspace"] if p.startswith(FOLDER))
    assert left == [FOLDER, f"{FOLDER}/notes.py"], "deploy's folders were left behind"
    assert "removed pipeline local_developer_example" in out
    assert "removed connection example_connection" in out
    assert "removed schema main.local_developer_example" in out
    assert f"removed {deployed} files and 4 folders under {FOLDER}" in out
    assert f"left {FOLDER}/notes.py (not made by deploy)" in out


# -- 2. no lost state: the workspace lock beside the manifest -----------------------------------
def test_a_second_deploy_of_the_same_source_fails_naming_the_lock_holder(root, monkeypatch):
    init = root / "sources" / SOURCE / "__init__.py"
    init.write_text(init.read_text() + "# changed\n")  # a file to upload: the sync takes the lock
    client = sdk(root)
    holder = deploy_lock.acquire(client, FOLDER, "alice@example.com")  # another deploy, running
    monkeypatch.setenv("LAKEFLOW_DEPLOY_LOCK_WAIT", "1")
    with pytest.raises(deploy_lock.DeployLocked, match=r"deploy locked by alice@example\.com on "):
        run_deploy(root)
    remote = core.read_file(client, f"{FOLDER}/sources/{SOURCE}/__init__.py")
    assert b"# changed" not in remote, "the locked deploy uploaded anyway"
    deploy_lock.release(client, FOLDER, holder)
    assert "upload sources/example/__init__.py" in run_deploy(root)
    assert deploy_lock.read_holder(client, FOLDER) is None, "the deploy left its lock behind"
