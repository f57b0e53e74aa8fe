"""Names a deploy context derives from the specs, the target and the user."""

from __future__ import annotations

import dataclasses

from tools.lakeflow.targets import Target


def test_names_follow_the_guide(ctx):
    assert ctx.remote_root == "/Workspace/Users/jane.doe@example.com/demo"
    assert ctx.pipeline_name == "jane_doe_demo"
    assert ctx.connection_name == "demo_connection"
    assert (ctx.catalog, ctx.schema) == ("cat", "jane_doe_demo")


def test_the_spec_schema_beats_the_target_pattern(ctx):
    ctx.pipeline.schema = "fixed"
    assert ctx.schema == "fixed"


def test_the_target_catalog_when_the_spec_has_none(ctx):
    ctx.pipeline.catalog = ""
    ctx.session.target = Target(name="local", kind="local", catalog="dev_cat")
    assert ctx.catalog == "dev_cat"


def test_the_target_workspace_root_pattern(ctx):
    ctx.session.target = dataclasses.replace(ctx.target, workspace_root="/Shared/{user}/{source}/")
    assert ctx.remote_root == "/Shared/jane_doe/demo/demo"


def test_options_never_show_in_the_repr(ctx):
    assert "options=" not in repr(ctx) and "'k'" not in repr(ctx)


def test_the_context_shares_the_session_state(ctx):
    ctx.source_state["x"] = 1
    assert ctx.session.state.data["sources"]["demo"] == {"x": 1}
    assert ctx.state is ctx.session.state and ctx.root == ctx.session.root
