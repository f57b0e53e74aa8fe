"""doit's output at scale: the first up-to-date tasks by name, the rest counted in one line."""

from __future__ import annotations

import io

from doit.reporter import ConsoleReporter
from doit.task import Task

from tools.lakeflow.doit_support import ScaleReporter


def _task(name: str) -> Task:
    return Task(name, actions=[lambda: None])


def test_past_the_first_up_to_date_tasks_the_rest_are_counted_by_group():
    out = io.StringIO()
    reporter = ScaleReporter(out, {})
    names = [f"{group}:s{i:03d}" for group in ("merge", "stage") for i in range(30)]
    for name in names:
        reporter.skip_uptodate(_task(name))
    reporter.execute_task(_task("merge:edited"))
    reporter.complete_run()

    lines = out.getvalue().splitlines()
    assert lines[: ScaleReporter.SHOWN] == [f"-- {n}" for n in names[: ScaleReporter.SHOWN]]
    assert ".  merge:edited" in lines  # a task that runs is always named
    assert lines[-1] == "-- and 40 more up to date: merge 10, stage 30"


def test_a_small_run_prints_what_doit_prints():
    out, plain = io.StringIO(), io.StringIO()
    for reporter in (ScaleReporter(out, {}), ConsoleReporter(plain, {})):
        for name in ("merge:a", "stage:a", "deploy:a"):
            reporter.skip_uptodate(_task(name))
        reporter.complete_run()
    assert out.getvalue() == plain.getvalue() == "-- merge:a\n-- stage:a\n-- deploy:a\n"
