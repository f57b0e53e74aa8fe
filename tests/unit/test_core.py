"""The deploy core's pure parts: file and settings diffs, changes, plan lines, the driver."""

from __future__ import annotations

import pytest

from tools.lakeflow import core
from tools.lakeflow.core import Change, Listing

A, B = "a" * 64, "b" * 64


def diff(desired, recorded, live):
    return [(c.name, c.action, c.reason) for c in core.diff_files("file", desired, recorded, live)]


def test_a_new_file_is_created():
    assert diff({"x.py": A}, {}, {}) == [("x.py", "create", "new")]


def test_a_recorded_file_missing_remotely_is_restored():
    recorded = {"x.py": {"sha256": A, "modified_at": 5}}
    assert diff({"x.py": A}, recorded, {}) == [("x.py", "update", "restore")]


def test_a_changed_file_is_updated():
    recorded = {"x.py": {"sha256": A, "modified_at": 5}}
    assert diff({"x.py": B}, recorded, {"x.py": 5}) == [("x.py", "update", "changed")]


def test_a_file_there_but_never_recorded_is_uploaded_as_changed():
    assert diff({"x.py": A}, {}, {"x.py": 5}) == [("x.py", "update", "changed")]


def test_a_file_edited_remotely_is_uploaded_again():
    recorded = {"x.py": {"sha256": A, "modified_at": 5}}
    assert diff({"x.py": A}, recorded, {"x.py": 6}) == [("x.py", "update", "edited remotely")]


@pytest.mark.parametrize("seen", [5, None])
def test_an_identical_file_is_unchanged(seen):
    recorded = {"x.py": {"sha256": A, "modified_at": seen}}
    assert diff({"x.py": A}, recorded, {"x.py": 5}) == [("x.py", "unchanged", "")]


def test_a_recorded_file_no_longer_desired_is_deleted_only_if_still_there():
    recorded = {"old.py": {"sha256": A, "modified_at": 1}, "gone.py": {"sha256": A}}
    assert diff({}, recorded, {"old.py": 1, "gone.py": 1}) == [
        ("gone.py", "delete", ""),
        ("old.py", "delete", ""),
    ]
    assert diff({}, recorded, {}) == []


def test_a_file_deploy_did_not_create_is_never_deleted():
    assert diff({}, {}, {"someone_elses.py": 1}) == []


def test_diff_files_carries_digest_and_live_time_and_sorts():
    changes = core.diff_files("notebook", {"b": B, "a": A}, {}, {"b": 7})
    assert [(c.kind, c.name, c.desired, c.live) for c in changes] == [
        ("notebook", "a", A, None),
        ("notebook", "b", B, 7),
    ]


def test_overlay_change_create_when_nothing_is_live():
    assert core.overlay_change(None, {"a": 1}) == ("create", {"a": 1})


def test_overlay_change_keeps_unmanaged_settings():
    action, merged = core.overlay_change({"a": 1, "photon": True}, {"a": 2})
    assert action == "update" and merged == {"a": 2, "photon": True}


def test_overlay_change_unchanged_when_managed_settings_match():
    assert core.overlay_change({"a": 1, "photon": True}, {"a": 1})[0] == "unchanged"


def test_overlay_change_compares_nested_values():
    live = {"configuration": {"k": "1"}, "libraries": [{"file": {"path": "/x"}}]}
    assert core.overlay_change(live, {"configuration": {"k": "1"}})[0] == "unchanged"
    assert core.overlay_change(live, {"libraries": [{"file": {"path": "/y"}}]})[0] == "update"


def test_pipeline_change_overlays_the_live_spec():
    live = {"pipeline_id": "p1", "spec": {"name": "n", "development": True, "photon": True}}
    action, spec = core.pipeline_change(live, {"name": "n", "development": False})
    assert action == "update"
    assert spec == {"name": "n", "development": False, "photon": True}
    assert core.pipeline_change(live, {"name": "n"}) == ("unchanged", live["spec"])
    assert core.pipeline_change(None, {"name": "n"}) == ("create", {"name": "n"})


def test_job_change_overlays_the_live_settings():
    live = {
        "job_id": 1,
        "settings": {"name": "j", "schedule": {"quartz_cron_expression": "0 0 3 * * ?"}},
    }
    assert core.job_change(live, {"name": "j"})[0] == "unchanged"
    new = {"schedule": {"quartz_cron_expression": "0 0 4 * * ?"}}
    action, settings = core.job_change(live, new)
    assert action == "update" and settings == {"name": "j", **new}
    assert core.job_change(None, new) == ("create", new)


def test_missing_folders_are_the_root_and_upload_parents_not_listed():
    listing = Listing(files={}, folders={"", "libs"})
    assert core.missing_folders("/W/demo", ["libs/a.py", "sources/demo/b.py", "c.py"], listing) == [
        "/W/demo/sources/demo"
    ]
    assert core.missing_folders("/W/demo", ["c.py"], Listing()) == ["/W/demo"]


def test_change_lines_and_writes():
    assert Change("file", "a.py", "update", "changed").line() == "  update    file a.py (changed)"
    assert Change("schema", "c.s", "unchanged").line() == "  unchanged schema c.s"
    assert Change("job", "j", "create").writes and not Change("job", "j", "unchanged").writes


def test_change_repr_never_shows_desired_or_live():
    assert "secret" not in repr(Change("connection", "c", "create", desired={"k": "secret"}))


def test_count_and_summary():
    changes = [
        Change("file", "a", "create"),
        Change("file", "b", "update"),
        Change("file", "c", "update"),
        Change("file", "d", "unchanged"),
        Change("pipeline", "p", "delete"),
    ]
    assert core.count(changes) == {"create": 1, "update": 2, "delete": 1, "unchanged": 1}
    assert core.summary(changes) == "Plan: 1 to add, 2 to change, 1 to delete, 1 unchanged"
    assert core.summary([]) == "Plan: 0 to add, 0 to change, 0 to delete, 0 unchanged"


class Ctx:
    def __init__(self, session):
        self.session = session
        self.calls: list[str] = []


def recording_resource(kind, actions):
    def plan(ctx):
        ctx.calls.append(f"plan {kind}")
        return [Change(kind, f"{kind}{i}", a) for i, a in enumerate(actions)]

    def apply(ctx, changes):
        assert ctx.session.state.lock._lock.is_locked, "apply runs under the state lock"
        ctx.calls.append(f"apply {kind} {[c.action for c in changes]}")
        ctx.session.state.source("demo")[kind] = len(changes)

    return core.Resource(kind, plan, apply)


def test_plan_concatenates_and_never_applies(session):
    ctx = Ctx(session)
    found = core.plan(
        ctx, [recording_resource("a", ["create"]), recording_resource("b", ["unchanged"])]
    )
    assert [c.name for c in found] == ["a0", "b0"]
    assert ctx.calls == ["plan a", "plan b"]


def test_deploy_plans_then_applies_every_change_and_saves(session):
    ctx = Ctx(session)
    changes = core.deploy(ctx, recording_resource("a", ["create", "unchanged"]))
    assert [c.action for c in changes] == ["create", "unchanged"]
    assert ctx.calls == ["plan a", "apply a ['create', 'unchanged']"]
    assert not session.state.lock._lock.is_locked
    from tools.lakeflow.state import DeployState

    assert DeployState("local", session.root).source("demo") == {"a": 2}


def test_the_session_fills_target_patterns(session):
    assert session.user == "jane_doe"
    assert session.fill("{user}/{user_name}/{source}", "s") == "jane_doe/jane.doe@example.com/s"
    assert session.workspace_folder("demo") == "/Workspace/Users/jane.doe@example.com/demo"
    assert session.workspace_folder("demo", "demo_notebooks").endswith("/demo_notebooks")


def test_open_session_is_one_per_target(repo, monkeypatch):
    monkeypatch.delenv("LAKEFLOW_TARGET", raising=False)
    first = core.open_session(repo.root)
    assert core.open_session(repo.root) is first
    assert first.target.name == "local"
