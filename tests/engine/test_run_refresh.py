"""`doit run:<s> --refresh a,b --full-refresh-tables c`: the pipelines API's table selections,
checked before any call, sent through the real SDK and recorded by the local workspace."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import context, run
from tools.lakeflow.errors import LakeflowError
from tools.local_workspace import LocalWorkspace


@pytest.fixture(scope="module")
def deployed(tmp_path_factory):
    box = DoitSandbox(tmp_path_factory.mktemp("repo"), sources=("example",))
    box.doit("deploy:example")
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        yield box, ws


def update_starts(ws) -> int:
    return sum(1 for r in ws.requests() if r["method"] == "POST" and r["path"].endswith("/updates"))


def latest_update(ws):
    client = WorkspaceClient(config=Config(host=ws.url, token=ws.token))
    (pipeline,) = list(client.pipelines.list_pipelines())
    update_id = client.pipelines.get(pipeline.pipeline_id).latest_updates[0].update_id
    return client.pipelines.get_update(pipeline.pipeline_id, update_id).update


def test_the_selection_reaches_the_pipelines_api(deployed):
    box, ws = deployed
    result = box.doit(
        "run:example", "--refresh", "products,customers", "--full-refresh-tables", "events"
    )
    update = latest_update(ws)
    assert update.refresh_selection == ["customers", "products"]
    # `events` is a source table: its destination table is what the pipeline knows.
    assert update.full_refresh_selection == ["example_events"]
    assert not update.full_refresh
    assert update.state.value == "COMPLETED"
    assert "refresh: customers, products; full refresh: example_events" in result.stdout


def test_an_unknown_table_fails_before_any_call(deployed):
    box, ws = deployed
    before = update_starts(ws)
    result = box.doit("run:example", "--refresh", "products,nope", check=False)
    assert result.returncode != 0
    assert update_starts(ws) == before
    error = result.stderr.strip().splitlines()[0]
    assert "--refresh: unknown table nope" in error and "example_events" in error
    assert "sources/example/pipeline_spec.yaml" in error


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"full_refresh_tables": "nope"}, "--full-refresh-tables: unknown table nope"),
        ({"refresh": "orders", "full_refresh_tables": "orders"}, "orders: in both"),
        ({"full_refresh": True, "refresh": "orders"}, "drop the table selection"),
    ],
)
def test_conflicting_selections_are_refused_before_the_client_is_made(options, message):
    ctx = context.prepare("example")
    with pytest.raises(LakeflowError, match=message):
        run.run_pipeline(ctx, **options)
    assert "client" not in vars(ctx)  # the lazily made SDK client was never needed
