"""dodo.py's GROUP_DEPENDS, which decides the groups a command line defines, matches the task
graph doit builds when it defines every task: a missing entry would leave a dependency undefined."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.engine.doit_sandbox import DoitSandbox

# Every task as doit defines it for a command that needs all of them (`doit info`; plain `doit
# list` defines no source's tasks since 43c01ec): name, task_dep, file_dep, targets.
DUMP = """
import json, runpy, sys
sys.argv = ["doit", "info"]
namespace = runpy.run_path("dodo.py")
from doit.loader import load_tasks
tasks = load_tasks(namespace, allow_delayed=False)
print(json.dumps({"depends": namespace["GROUP_DEPENDS"], "tasks": [
    {"name": t.name, "task_dep": t.task_dep, "file_dep": sorted(t.file_dep), "targets": t.targets}
    for t in tasks]}))
"""


def test_every_dependency_between_groups_is_declared(tmp_path):
    box = DoitSandbox(tmp_path)
    out = subprocess.run(
        [sys.executable, "-c", DUMP],
        cwd=box.root,
        env=box._env(None),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    data = json.loads(out)
    depends, tasks = data["depends"], data["tasks"]
    made_by = {target: t["name"] for t in tasks for target in t["targets"]}
    checked = set()
    for task in tasks:
        group, _, source = task["name"].partition(":")
        if not source or group not in depends:
            continue  # a group's own task, or a task without sources (new, spark_stop)
        needed = set(task["task_dep"]) | {made_by[f] for f in task["file_dep"] if f in made_by}
        for dep in needed:
            dep_group, _, dep_source = dep.partition(":")
            assert dep_group in depends[group], f"{task['name']} needs {dep}: not declared"
            if dep_group != "shared":  # the shared fingerprints serve every source
                assert dep_source == source, f"{task['name']} needs another source's {dep}"
            checked.add((group, dep_group))
    # the table names groups that exist, and the walk saw the dependencies it should
    groups = {t["name"].partition(":")[0] for t in tasks}
    assert set(depends) <= groups
    assert {("deploy", "check"), ("stage", "merge"), ("merge", "shared")} <= checked
