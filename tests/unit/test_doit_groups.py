"""Which task groups (and sources) a `doit` command line needs: only those get tasks."""

from __future__ import annotations

import pytest

from tools.lakeflow.doit_support import needed_sources

DEPENDS = {
    "shared": [],
    "merge": ["shared"],
    "stage": ["merge", "shared"],
    "check": ["merge"],
    "deploy": ["check", "stage"],
    "run": [],
    "plan": ["stage"],
}
DEFAULT = ["merge", "stage"]


def needs(*words: str):
    return needed_sources(["doit", *words], DEPENDS, DEFAULT)


def test_plain_doit_needs_the_default_groups_and_their_dependencies_for_every_source():
    assert needs() == {"merge": None, "stage": None, "shared": None}
    assert needs("run") == needs() == needs("-n", "4") == needs("-v", "2")


def test_a_named_task_needs_its_own_source_only_down_its_dependencies():
    assert needs("deploy:example") == {
        "deploy": {"example"},
        "check": {"example"},
        "stage": {"example"},
        "merge": {"example"},
        "shared": {"example"},
    }


def test_a_group_name_needs_every_source_and_task_parameters_are_skipped():
    wanted = needs("plan", "deploy:github", "--json", "out")
    assert wanted is not None
    assert wanted["plan"] is None and wanted["stage"] is None
    assert wanted["deploy"] == {"github"} and wanted["check"] == {"github"}
    assert "run" not in wanted


def test_run_tasks_are_reached_by_their_name_not_by_doits_run_command():
    assert needs("run:example") == {"run": {"example"}}
    assert needs("run", "run:example") == {"run": {"example"}}


def test_plain_doit_list_needs_the_groups_but_no_source_task_except_run():
    assert needs("list") == needs("list", "-q") == {"run": None}


@pytest.mark.parametrize(
    "words",
    [
        ("list", "--all"),
        ("list", "deploy"),
        ("list", "--status"),
        ("info", "deploy:example"),
        ("clean",),
        ("forget", "merge:example"),
        ("help",),
        ("build/stage/example/ingest.py",),  # a target: doit finds its task among all of them
        ("deploy:example", "sources/example/_generated_example_python_source.py"),
        ("typo:example",),  # doit itself reports the unknown task, among all tasks
    ],
)
def test_other_commands_and_anything_unclear_get_every_group(words):
    assert needs(*words) is None
