"""Build and deploy tasks. Declarations only: every action is one call into tools/lakeflow.

`doit` merges and stages every source; `doit list` shows all tasks; `doit deploy:<source>`
is the everyday command. A task re-runs only when one of its file_dep changed.
"""

from tools.lakeflow import merge, project, stage
from tools.lakeflow.doit_support import action

project.lakeflow_dir().mkdir(exist_ok=True)  # doit keeps its state file there
SOURCES = project.source_names()
ENGINE = project.REPO_ROOT / "tools" / "lakeflow"


def _paths(paths):
    return sorted({str(p) for p in paths})


def task_merge():
    """Merge a connector and the shared runtime it uses into its single generated file."""
    for name in SOURCES:
        yield {
            "name": name,
            "actions": [action(merge.write_merged, name)],
            "file_dep": _paths([*merge.merge_inputs(name), ENGINE / "merge.py"]),
            "targets": [str(project.generated_file(name))],
            "clean": True,
        }


def task_stage():
    """Lay out build/stage/<source>/, the exact file set a deploy uploads."""
    for name in SOURCES:
        yield {
            "name": name,
            "actions": [action(stage.stage_source, name)],
            "file_dep": _paths(
                [*stage.stage_inputs(name), ENGINE / "stage.py", ENGINE / "specs.py"]
            ),
            "targets": _paths(stage.stage_outputs(name)),
            "clean": True,
        }
