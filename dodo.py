"""Build and deploy tasks. Declarations only: every action is one call into tools/lakeflow.

`doit` merges and stages every source; `doit list` shows all tasks; `doit deploy:<source>`
is the everyday command. A task re-runs only when one of its file_dep changed.
"""

import sys

from tools.lakeflow import (
    deploy,
    input_cache,
    merge_guard,
    project,
    scaffold,
    spark_check,
    spark_server,
    stage,
    wheel,
)
from tools.lakeflow.doit_support import (
    FAIL_ON_ACTIVE_RUNS,
    FORCE_LOCK,
    FULL_REFRESH,
    FULL_REFRESH_TABLES,
    JSON_FILE,
    NAME,
    PLAN,
    REFRESH,
    YES,
    ScaleReporter,
    action,
    needed_sources,
    preload_state,
    remote_task,
)
from tools.notebook_based_deployment import tasks as notebook_tasks

project.lakeflow_dir().mkdir(exist_ok=True)  # doit keeps its state file there
# Plain `doit` builds; remote tasks run only when named. Past 20 up-to-date tasks the reporter
# counts the rest in one line (`--reporter console` prints doit's own). (pyproject's [tool.doit]
# holds the command options: state file and backend.)
DOIT_CONFIG = {"default_tasks": ["merge", "stage"], "reporter": ScaleReporter}
SOURCES = project.source_names()
ENGINE = project.REPO_ROOT / "tools" / "lakeflow"
# What each group's task for a source depends on (task_dep, or a file_dep another group makes);
# tests/engine/test_dodo_groups.py checks it against the graph doit builds.
GROUP_DEPENDS: dict[str, list[str]] = {
    "shared": [],
    "merge": ["shared"],
    "stage": ["merge", "shared"],
    "wheel": ["merge"],
    "check": ["merge"],
    "sync": ["stage"],
    "connection": ["sync"],
    "schema": ["connection"],
    "pipeline": ["schema"],
    "deploy": ["check", "stage"],
    "run": [],
    "status": [],
    "plan": ["stage"],
    "auth": [],
    "destroy": [],
    "notebooks": ["merge"],
    "notebook_deploy": ["merge"],
    "notebook_plan": ["merge"],
}
# Only the groups (and sources) this command line can reach get tasks: a no-op `doit` at 200
# sources then makes 400 tasks, not 3,200. `doit list`, `info` and the like get all of them.
NEEDED = needed_sources(sys.argv, GROUP_DEPENDS, DOIT_CONFIG["default_tasks"])


def sources_for(group: str) -> list[str]:
    """The sources whose `group` task this doit command can run (in order)."""
    wanted = NEEDED.get(group, set()) if NEEDED is not None else None
    names = SOURCES if wanted is None else [n for n in SOURCES if n in wanted]
    if NEEDED is not None:  # doit will check these tasks: read their state in one query
        preload_state([f"{group}:{name}" for name in names])
    return names


def _paths(paths):
    return sorted({str(p) for p in paths})


def task_shared():
    """Fingerprint what every source's merge (or stage) reads: one file_dep instead of ~15."""
    for group in ("merge", "stage"):
        yield {
            "name": group,
            "actions": [action(input_cache.write_fingerprint, group)],
            "file_dep": input_cache.shared_inputs(group),
            "targets": [str(input_cache.fingerprint_path(group))],
            "clean": True,
        }


def task_merge():
    """Merge a connector and the shared runtime it uses into its single generated file."""
    # Import graphs come from .lakeflow/merge-inputs.json while their files are unchanged.
    names = sources_for("merge")
    inputs = input_cache.merge_inputs(names)
    shared = str(input_cache.fingerprint_path("merge"))
    for name in names:
        yield {
            "name": name,
            "actions": [action(merge_guard.merge_and_stamp, name)],
            "file_dep": [shared, *input_cache.own_inputs(inputs[name], "merge")],
            "uptodate": [(merge_guard.unedited, [name])],  # a hand edit re-runs the merge
            "targets": [project.generated_path(name)],
            "clean": True,
        }


def task_stage():
    """Lay out build/stage/<source>/, the exact file set a deploy uploads."""
    shared = str(input_cache.fingerprint_path("stage"))
    for name in sources_for("stage"):
        inputs, outputs = stage.stage_task_files(name)
        yield {
            "name": name,
            "actions": [action(stage.stage_source, name)],
            "file_dep": [shared, *input_cache.own_inputs(inputs, "stage")],
            "targets": outputs,
            "clean": True,
        }


def task_wheel():
    """Build the connector's wheel (managed mode): byte-identical for identical inputs."""
    for name in sources_for("wheel"):
        yield {
            "name": name,
            "actions": [action(wheel.build_wheel, name)],
            "file_dep": _paths([*wheel.wheel_inputs(name), ENGINE / "wheel.py"]),
            "targets": [
                str(wheel.stamp_path(name))
            ],  # the wheel beside it is checked by the action
            "clean": True,
        }


# --- deploy tasks ---
def task_sync():
    """Upload the changed staged files of a source (content hashes, not mtimes)."""
    for name in sources_for("sync"):
        yield remote_task(name, deploy.sync_files, [f"stage:{name}"])


def task_connection():
    """Create or update the source's Unity Catalog connection when its options changed."""
    for name in sources_for("connection"):
        yield remote_task(name, deploy.deploy_connection, [f"sync:{name}"])


def task_schema():
    """Create the destination schema if it is missing."""
    for name in sources_for("schema"):
        yield remote_task(name, deploy.deploy_schema, [f"connection:{name}"])


def task_pipeline():
    """Create the pipeline, or update it in place when its settings changed."""
    for name in sources_for("pipeline"):
        yield remote_task(name, deploy.deploy_pipeline, [f"schema:{name}"])


def task_check():
    """Read the merged connector in Spark (the warm local server, else a new session)."""
    deploying = set(sources_for("deploy"))
    for name in sources_for("check"):
        # A folder copied from upstream has no spark_case.py: the check then only registers.
        spark_case = project.source_dir(name) / "test" / "spark_case.py"
        declared = [spark_case] if spark_case.is_file() else []
        # The deploy that follows imports its engine while the check waits on Spark.
        meanwhile = deploy.import_engine if name in deploying else None
        yield {
            "name": name,
            "actions": [action(spark_check.check_task, name, meanwhile)],
            "file_dep": _paths([project.generated_file(name), *declared]),
            "targets": [str(spark_check.check_stamp(name))],
            "verbosity": 2,
        }


def task_spark_stop():
    """Stop the warm Spark Connect server the checks share (it also stops when idle)."""
    return {"actions": [action(spark_server.stop_task)], "uptodate": [False], "verbosity": 2}


def task_deploy():
    """Build, check in Spark, then deploy in the source's mode (files or managed): only what
    changed, under the workspace deploy lock. `doit deploy` deploys every source."""
    for name in sources_for("deploy"):
        # Without pyspark, check:<s> prints a one-line notice instead of checking.
        yield remote_task(
            name,
            deploy.deploy_source,
            # (managed mode builds its wheel while it plans, only when its inputs changed: files
            # mode never pays for a wheel)
            [f"check:{name}", f"stage:{name}"],
            params=[PLAN, FORCE_LOCK, FAIL_ON_ACTIVE_RUNS],
        )


def task_run_pipeline():
    """Start a pipeline update and watch it (`--full-refresh`, or tables: `--refresh a,b`,
    `--full-refresh-tables c`)."""
    # doit reserves the task name `run` (its own command), so these are named `run:<s>` one by
    # one instead of as sub-tasks of a `run` group; `doit run:<s>` works the same.
    for name in sources_for("run"):
        task = remote_task(
            name, deploy.run_pipeline, params=[FULL_REFRESH, REFRESH, FULL_REFRESH_TABLES]
        )
        del task["name"]
        yield {**task, "basename": f"run:{name}", "doc": f"run the {name} pipeline"}


def task_status():
    """Show what is deployed for a source and its latest updates."""
    for name in sources_for("status"):
        yield remote_task(name, deploy.show_status)


def task_plan():
    """Dry run: one line per file or resource a deploy would create, update or delete."""
    for name in sources_for("plan"):
        yield remote_task(name, deploy.show_plan, [f"stage:{name}"], params=[JSON_FILE])


def task_auth():
    """Authorize the source's connection as its auth method needs (OAuth u2m: browser + PKCE)."""
    for name in sources_for("auth"):
        yield remote_task(name, deploy.authorize_source)


def task_destroy():
    """Remove what deploy created for a source (needs --yes)."""
    for name in sources_for("destroy"):
        yield remote_task(name, deploy.destroy_source, params=[YES])


# --- notebook tasks ---
def with_preset(names: list[str]) -> list[str]:
    """The sources among `names` that have a notebook deployment preset."""
    return [n for n in names if (project.source_dir(n) / "deployment/deploy_preset.json").is_file()]


def task_notebooks():
    """Generate DLT notebooks and bundle YAML from sources/<s>/deployment/deploy_preset.json."""
    for name in with_preset(sources_for("notebooks")):
        yield remote_task(name, notebook_tasks.generate_notebooks, [f"merge:{name}"])


def task_notebook_deploy():
    """Deploy the notebook pipelines and scheduled jobs of a preset: only what changed."""
    for name in with_preset(sources_for("notebook_deploy")):
        yield remote_task(name, notebook_tasks.deploy_notebooks, [f"merge:{name}"])


def task_notebook_plan():
    """Dry run of notebook_deploy: one line per volume file, notebook, pipeline and job."""
    for name in with_preset(sources_for("notebook_plan")):
        yield remote_task(name, notebook_tasks.plan_notebooks, [f"merge:{name}"])


# --- scaffold ---
def task_new():
    """Create a new connector from templates: `doit new --name <source>`."""
    return {
        "actions": [action(scaffold.new_source, params=[NAME])],
        "params": [NAME],
        "uptodate": [False],
        "verbosity": 2,
    }
