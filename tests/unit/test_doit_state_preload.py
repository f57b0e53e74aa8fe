"""doit's state for the tasks a run will check is read in one query, and reads the same."""

from __future__ import annotations

import pytest
from doit import Globals
from doit.dependency import Dependency, JsonDB, SqliteDB

from tools.lakeflow.doit_support import preload_state


def _saved_state(path, rows: dict[str, dict[str, str]]) -> None:
    saved = Dependency(SqliteDB, str(path))
    for task, values in rows.items():
        for key, value in values.items():
            saved.backend.set(task, key, value)
    saved.close()


@pytest.fixture
def dep_manager(monkeypatch):
    def use(manager):
        monkeypatch.setattr(Globals, "dep_manager", manager)
        return manager

    return use


ROWS = {f"merge:s{i:03d}": {"checker:": "MD5Checker", "deps:": [f"f{i}"]} for i in range(1200)}


def test_preloaded_rows_are_the_rows_doit_reads_itself(tmp_path, dep_manager):
    state = tmp_path / "state.sqlite3"
    _saved_state(state, ROWS)
    names = [*ROWS, "merge:never_ran"]  # more than one query's worth, and a task with no row

    preloaded = dep_manager(Dependency(SqliteDB, str(state)))
    preload_state(names)
    assert set(preloaded.backend._cache) == set(ROWS)  # read, and nothing invented for no row

    plain = Dependency(SqliteDB, str(state))
    for name in names:
        for key in ("checker:", "deps:"):
            assert preloaded.backend.get(name, key) == plain.backend.get(name, key)
    assert preloaded.backend.get("merge:s007", "deps:") == ["f7"]


def test_a_row_doit_already_holds_is_kept(tmp_path, dep_manager):
    state = tmp_path / "state.sqlite3"
    _saved_state(state, {"stage:a": {"deps:": ["old"]}})
    manager = dep_manager(Dependency(SqliteDB, str(state)))
    manager.backend.set("stage:a", "deps:", ["changed in this run"])

    preload_state(["stage:a"])
    assert manager.backend.get("stage:a", "deps:") == ["changed in this run"]


def test_another_backend_is_left_to_doit(tmp_path, dep_manager):
    manager = dep_manager(Dependency(JsonDB, str(tmp_path / "state.json")))
    preload_state(["merge:a"])  # nothing to preload into; doit reads as it always does
    assert manager.backend.get("merge:a", "deps:") is None
