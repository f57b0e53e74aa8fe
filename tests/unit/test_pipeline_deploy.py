"""The pipeline the files path wants, how it is compared with the live one, and scd changes."""

from __future__ import annotations

import pytest

from tools.lakeflow import core, pipeline_deploy

ROOT = "/Workspace/Users/jane.doe@example.com/demo"


def test_desired_spec_from_the_pipeline_spec_and_target(ctx):
    assert pipeline_deploy.desired_spec(ctx) == {
        "name": "jane_doe_demo",
        "catalog": "cat",
        "schema": "jane_doe_demo",
        "serverless": True,
        "development": False,
        "continuous": False,
        "configuration": {"a": "1", "source_name": "demo"},
        "libraries": [{"file": {"path": f"{ROOT}/ingest.py"}}],
        "channel": "PREVIEW",
    }


def test_no_channel_unless_the_spec_sets_one(ctx):
    ctx.pipeline.settings.pop("channel")
    assert "channel" not in pipeline_deploy.desired_spec(ctx)


def test_the_source_name_always_reaches_the_configuration(ctx):
    ctx.pipeline.settings["configuration"] = {"source_name": "other"}
    assert pipeline_deploy.desired_spec(ctx)["configuration"] == {"source_name": "demo"}


@pytest.mark.parametrize(
    ("before", "now", "changed"),
    [
        ({}, {"t": "SCD_TYPE_2"}, []),  # first deploy
        ({"t": "SCD_TYPE_1"}, {"t": "SCD_TYPE_1"}, []),
        ({"t": "SCD_TYPE_1"}, {"t": "SCD_TYPE_2"}, ["t"]),
        (
            {"t": "SCD_TYPE_2", "u": "APPEND_ONLY"},
            {"u": "SCD_TYPE_1", "t": "SCD_TYPE_2", "v": "SCD_TYPE_2"},
            ["u"],
        ),
        (
            {"b": "SCD_TYPE_1", "a": "SCD_TYPE_1"},
            {"b": "SCD_TYPE_2", "a": "SCD_TYPE_2"},
            ["a", "b"],
        ),
    ],
)
def test_scd_changes(before, now, changed):
    assert pipeline_deploy.scd_changes(before, now) == changed


@pytest.fixture
def live_pipeline(monkeypatch):
    """The fake live-state reader for pipelines: returns what the test sets, records the lookup."""
    seen = {}

    def find_pipeline(client, pipeline_id, name):
        seen.update(pipeline_id=pipeline_id, name=name)
        return seen.get("live")

    monkeypatch.setattr(core, "find_pipeline", find_pipeline)
    return seen


def test_plan_creates_a_missing_pipeline_looked_up_by_name(ctx, live_pipeline):
    [change] = pipeline_deploy.plan_pipeline(ctx)
    assert (change.kind, change.name, change.action) == ("pipeline", "jane_doe_demo", "create")
    assert live_pipeline["pipeline_id"] is None and live_pipeline["name"] == "jane_doe_demo"
    assert change.desired == pipeline_deploy.desired_spec(ctx)


def test_plan_looks_up_the_recorded_id(ctx, live_pipeline):
    ctx.source_state["pipeline"] = {"pipeline_id": "p-1"}
    pipeline_deploy.plan_pipeline(ctx)
    assert live_pipeline["pipeline_id"] == "p-1"


def test_plan_keeps_unmanaged_settings_and_sees_no_change(ctx, live_pipeline):
    spec = {**pipeline_deploy.desired_spec(ctx), "photon": True}
    live_pipeline["live"] = {"pipeline_id": "p-1", "spec": spec}
    [change] = pipeline_deploy.plan_pipeline(ctx)
    assert change.action == "unchanged" and change.desired["photon"] is True


def test_plan_updates_a_changed_setting(ctx, live_pipeline):
    spec = {**pipeline_deploy.desired_spec(ctx), "development": True}
    live_pipeline["live"] = {"pipeline_id": "p-1", "spec": spec}
    [change] = pipeline_deploy.plan_pipeline(ctx)
    assert change.action == "update" and change.desired["development"] is False
