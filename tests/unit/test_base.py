"""The engine's base: repo layout, the error type, and the doit glue."""

from __future__ import annotations

import inspect

import pytest
from doit.exceptions import TaskFailed

from tools.lakeflow import doit_support, project
from tools.lakeflow.errors import LakeflowError


def test_source_names_are_folders_holding_their_module(repo):
    repo.write("sources/zeta/zeta.py", "")
    repo.write("sources/no_module/other.py", "")
    repo.write("sources/_private/_private.py", "")
    repo.write("sources/.hidden/.hidden.py", "")
    assert project.source_names(repo.root) == ["demo", "zeta"]


def test_paths_of_a_source(repo):
    assert project.generated_file("demo", repo.root) == (
        repo.root / "sources/demo/_generated_demo_python_source.py"
    )
    assert project.stage_dir("demo", repo.root) == repo.root / "build/stage/demo"
    assert project.lakeflow_dir(repo.root) == repo.root / ".lakeflow"


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"file": "a.yaml", "field": "x.y"}, "a.yaml: x.y: bad"),
        ({"file": "a.yaml"}, "a.yaml: bad"),
        ({"field": "x.y"}, "x.y: bad"),
        ({}, "bad"),
    ],
)
def test_errors_name_file_then_field(kwargs, text):
    error = LakeflowError("bad", **kwargs)
    assert str(error) == error.describe() == text
    assert error.message == "bad"


def test_an_error_accepts_a_path():
    from pathlib import Path

    assert LakeflowError("bad", file=Path("sources/a.yaml")).file == "sources/a.yaml"


def test_action_passes_arguments_and_ignores_the_return_value():
    seen = []
    run, args, kwargs = doit_support.action(lambda *a: seen.append(a) or False, "demo", 2)
    assert (args, kwargs) == ([], {})
    assert run() is None and seen == [("demo", 2)]


def test_action_turns_engine_errors_into_one_line_task_failures(capsys):
    def fails(name):
        raise LakeflowError("broken", file=f"sources/{name}/x.yaml", field="f")

    run, _, _ = doit_support.action(fails, "demo")
    result = run()
    assert isinstance(result, TaskFailed)
    assert capsys.readouterr().err == "error: sources/demo/x.yaml: f: broken\n"


def test_action_lets_unexpected_errors_through():
    def crashes():
        raise ZeroDivisionError

    run, _, _ = doit_support.action(crashes)
    with pytest.raises(ZeroDivisionError):
        run()


def test_action_signature_lists_the_task_params():
    got = {}
    run, _, _ = doit_support.action(
        lambda name, **kw: got.update(kw), "demo", params=[doit_support.YES, doit_support.REFRESH]
    )
    assert list(inspect.signature(run).parameters) == ["yes", "refresh"]
    run(yes=True, refresh="a")
    assert got == {"yes": True, "refresh": "a"}


def test_remote_task_always_runs_and_passes_the_source_name():
    task = doit_support.remote_task("demo", print, ["stage:demo"], params=[doit_support.YES])
    assert task["name"] == "demo" and task["uptodate"] == [False]
    assert task["task_dep"] == ["stage:demo"] and task["params"] == [doit_support.YES]
