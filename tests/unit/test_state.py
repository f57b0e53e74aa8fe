"""The state store: merged saves (nothing another process recorded is lost) and its one lock."""

from __future__ import annotations

import json

import pytest

from tools.lakeflow.errors import LakeflowError
from tools.lakeflow.state import DeployState, StateLock, merge_entries


def on_disk(repo) -> dict:
    return json.loads((repo.root / ".lakeflow/state/local.json").read_text())


def test_a_new_store_gets_a_salt_on_disk_at_once(repo):
    state = DeployState("local", repo.root)
    assert len(state.salt) == 32 and on_disk(repo)["salt"] == state.salt
    assert DeployState("local", repo.root).salt == state.salt


def test_a_state_file_deleted_under_a_running_process_gets_a_new_salt(repo):
    state = DeployState("local", repo.root)
    (repo.root / ".lakeflow/state/local.json").unlink()
    state.reload()
    assert len(state.salt) == 32
    state.save()
    assert on_disk(repo)["salt"] == state.salt


def test_source_records_are_created_empty_and_saved(repo):
    state = DeployState("local", repo.root)
    state.source("a")["files"] = {"x": {"sha256": "1"}}
    state.save()
    assert on_disk(repo)["sources"] == {"a": {"files": {"x": {"sha256": "1"}}}}


def test_one_store_per_target(repo):
    DeployState("local", repo.root).source("a")
    dev = DeployState("dev", repo.root)
    dev.source("b")["x"] = 1
    dev.save()
    assert json.loads((repo.root / ".lakeflow/state/dev.json").read_text())["sources"] == {
        "b": {"x": 1}
    }
    assert on_disk(repo)["sources"] == {}


def test_two_processes_saving_different_sources_keep_both(repo):
    first, second = DeployState("local", repo.root), DeployState("local", repo.root)
    first.source("a")["pipeline"] = {"pipeline_id": "p-a"}
    second.source("b")["pipeline"] = {"pipeline_id": "p-b"}
    first.save()
    second.save()
    assert on_disk(repo)["sources"] == {
        "a": {"pipeline": {"pipeline_id": "p-a"}},
        "b": {"pipeline": {"pipeline_id": "p-b"}},
    }
    assert second.data["sources"]["a"] == {"pipeline": {"pipeline_id": "p-a"}}


def test_saving_keeps_the_record_objects_handed_out(repo):
    first, second = DeployState("local", repo.root), DeployState("local", repo.root)
    record = first.source("a")
    second.source("b")["x"] = 1
    second.save()
    first.save()  # takes in b, keeps the `record` object live
    record["later"] = True
    first.save()
    assert on_disk(repo)["sources"]["a"] == {"later": True}
    assert on_disk(repo)["sources"]["b"] == {"x": 1}


def test_dicts_inside_a_record_stay_live_across_saves(repo):
    """A holder of `record["jobs"]` keeps writing into the saved record, however many saves pass."""
    state = DeployState("local", repo.root)
    jobs = state.source("nb").setdefault("jobs", {})
    state.save()
    state.save()  # nothing changed: the record is refreshed from disk, its dicts must stay the same
    other = DeployState("local", repo.root)
    other.source("nb")["pipelines"] = {"p": "1"}
    other.save()
    state.reload()  # another process changed this record: refreshed in place, at every depth
    jobs["nightly"] = {"job_id": "7"}
    state.save()
    assert on_disk(repo)["sources"]["nb"] == {
        "jobs": {"nightly": {"job_id": "7"}},
        "pipelines": {"p": "1"},
    }


def test_a_source_another_process_changed_is_refreshed_in_place(repo):
    first, second = DeployState("local", repo.root), DeployState("local", repo.root)
    first.source("a")["v"] = 1
    first.save()
    second.reload()
    held = second.source("a")
    first.source("a")["v"] = 2
    first.save()
    second.reload()
    assert held == {"v": 2}


def test_a_dropped_source_stays_dropped_and_others_survive(repo):
    first, second = DeployState("local", repo.root), DeployState("local", repo.root)
    first.source("a")["x"] = 1
    first.source("b")["x"] = 1
    first.save()
    second.reload()
    second.drop_source("a")
    first.source("b")["x"] = 2
    first.save()
    second.save()
    assert on_disk(repo)["sources"] == {"b": {"x": 2}}


def test_top_level_entries_merge_like_sources(repo):
    first, second = DeployState("local", repo.root), DeployState("local", repo.root)
    first.data["user_name"] = "u@example.com"
    first.save()
    second.save()
    assert on_disk(repo)["user_name"] == "u@example.com"
    assert on_disk(repo)["salt"] == first.salt == second.salt


def test_a_corrupt_store_is_named(repo):
    path = repo.root / ".lakeflow/state/local.json"
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    with pytest.raises(LakeflowError, match="not valid JSON") as error:
        DeployState("local", repo.root)
    assert error.value.file == ".lakeflow/state/local.json"


def test_the_store_never_leaves_temporary_files(repo):
    state = DeployState("local", repo.root)
    state.source("a")["x"] = 1
    state.save()
    names = sorted(p.name for p in (repo.root / ".lakeflow/state").iterdir())
    assert names == ["local.json", "local.lock"]


@pytest.mark.parametrize(
    ("mine", "base", "theirs", "merged"),
    [
        ({"a": 1}, {"a": 1}, {"a": 2}, {"a": 2}),  # theirs changed
        ({"a": 3}, {"a": 1}, {"a": 2}, {"a": 3}),  # both changed: ours wins
        ({}, {"a": 1}, {"a": 2}, {}),  # we removed it
        ({"a": 1}, {"a": 1}, {}, {}),  # they removed it
        ({"n": 1}, {}, {"m": 2}, {"n": 1, "m": 2}),  # both added
    ],
)
def test_merge_entries(mine, base, theirs, merged):
    merge_entries(mine, base, theirs)
    assert mine == merged


def test_merge_entries_skips_the_named_key():
    mine = {"sources": {"a": 1}, "x": 1}
    merge_entries(mine, {"sources": {}, "x": 1}, {"sources": {}, "x": 2}, skip="sources")
    assert mine == {"sources": {"a": 1}, "x": 2}


def test_the_lock_is_reentrant_and_notes_its_holder(tmp_path):
    lock = StateLock(tmp_path / ".lakeflow/state/local.lock", timeout=1)
    with lock:
        with lock:
            holder = lock.holder()
        assert lock.holder() == holder and holder["pid"] > 0 and "@" in holder["owner"]
    assert lock.holder() == {}


def test_a_held_lock_times_out_with_one_line_naming_the_holder(tmp_path):
    path = tmp_path / ".lakeflow/state/local.lock"
    holding = StateLock(path, timeout=1)
    waiting = StateLock(path, timeout=0.2)  # its own file descriptor: flock conflicts
    with holding:
        pid = holding.holder()["pid"]
        with pytest.raises(LakeflowError) as error:
            with waiting:
                pass
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(".lakeflow/state/local.lock: deploy lock held by ")
    assert f"pid {pid}" in message and "gave up after 0.2s" in message
    assert "LAKEFLOW_LOCK_TIMEOUT" in message


def test_the_lock_timeout_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEFLOW_LOCK_TIMEOUT", "7.5")
    assert StateLock(tmp_path / "x.lock").timeout == 7.5
    monkeypatch.delenv("LAKEFLOW_LOCK_TIMEOUT")
    assert StateLock(tmp_path / "x.lock").timeout == 120
