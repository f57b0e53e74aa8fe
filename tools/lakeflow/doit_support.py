"""Glue between doit and the engine: engine errors become one clear line, not a traceback."""

from __future__ import annotations

import atexit
import gc
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Any

from doit.exceptions import TaskFailed
from doit.reporter import ConsoleReporter

from tools.lakeflow.errors import LakeflowError

# A doit process that deployed or checked holds databricks-sdk (or pyspark, pandas, grpc): at exit
# the interpreter's last collections walked all of it (~0.35 s of a ~1.5 s no-op deploy) to free
# memory that exiting frees anyway. Frozen, they skip it. (Files and state are written and closed
# explicitly before exit, never left to a finalizer.)
atexit.register(gc.freeze)

# Command-line parameters of the remote tasks (`doit run:example --full-refresh`).
Param = dict[str, Any]  # one doit task parameter
FULL_REFRESH: Param = {
    "name": "full_refresh",
    "long": "full-refresh",
    "type": bool,
    "default": False,
}
# `doit run:<s> --refresh a,b --full-refresh-tables c`: the pipelines API's table selections.
REFRESH: Param = {"name": "refresh", "long": "refresh", "type": str, "default": ""}
FULL_REFRESH_TABLES: Param = {
    "name": "full_refresh_tables",
    "long": "full-refresh-tables",
    "type": str,
    "default": "",
}
# `doit plan:<s> --json FILE`, `doit deploy:<s> --plan FILE --force-lock --fail-on-active-runs`.
JSON_FILE: Param = {"name": "json_file", "long": "json", "type": str, "default": ""}
PLAN: Param = {"name": "plan", "long": "plan", "type": str, "default": ""}
FORCE_LOCK: Param = {"name": "force_lock", "long": "force-lock", "type": bool, "default": False}
FAIL_ON_ACTIVE_RUNS: Param = {
    "name": "fail_on_active_runs",
    "long": "fail-on-active-runs",
    "type": bool,
    "default": False,
}
YES: Param = {"name": "yes", "long": "yes", "type": bool, "default": False}
NAME: Param = {"name": "name", "long": "name", "type": str, "default": ""}


def action(
    fn: Callable[..., object], *args: object, params: Sequence[Param] = ()
) -> tuple[Callable[..., object], list[object], dict[str, object]]:
    """A doit python-action calling `fn(*args, **<params>)`; its return value is ignored.

    doit reads a `False` return as failure, and engine functions return booleans such as
    "written", so the wrapper returns None on success and TaskFailed on bad input. doit passes
    task params by the action's argument names, so the wrapper's signature lists them.
    """

    return (_Action(fn, args, params), [], {})


class _Action:
    """The callable `action` hands doit. A class, not a closure with functools.wraps: every
    `doit` makes one per task, 400 of them at 200 sources."""

    def __init__(
        self, fn: Callable[..., object], args: tuple[object, ...], params: Sequence[Param]
    ):
        self.fn, self.args, self.params = fn, args, params
        self.__name__ = getattr(fn, "__name__", "action")

    def __repr__(self) -> str:  # what `doit info` shows for the action
        return f"<action {self.__name__}{self.args!r}>"

    @property
    def __signature__(self) -> inspect.Signature:
        keyword = inspect.Parameter.KEYWORD_ONLY
        return inspect.Signature(
            [inspect.Parameter(p["name"], keyword, default=p["default"]) for p in self.params]
        )

    def __call__(self, **given: object) -> object:
        try:
            self.fn(*self.args, **given)
        except (LakeflowError, FileNotFoundError) as error:
            print(f"error: {error}", file=sys.stderr)
            return TaskFailed(str(error))
        except Exception as error:
            # imported here: databricks-sdk takes ~1.5 s to import, which plain `doit` must not pay
            from tools.lakeflow import sdk_client

            remote = sdk_client.explain(error)  # the workspace failed: one line, not a traceback
            if remote is None:
                raise
            print(f"error: {remote}", file=sys.stderr)
            return TaskFailed(str(remote))
        return None


def remote_task(
    name: str,
    fn: Callable[..., object],
    task_dep: Sequence[str] = (),
    params: Sequence[Param] = (),
) -> dict[str, Any]:
    """A task that talks to the workspace. It always runs (uptodate False): its read-only checks
    are what notice out-of-band changes, and it writes only what differs."""
    return {
        "name": name,
        "actions": [action(fn, name, params=params)],
        "task_dep": list(task_dep),
        "params": list(params),
        "uptodate": [False],
        "verbosity": 2,
    }


# -- doit's console output at scale ----------------------------------------------------------
class ScaleReporter(ConsoleReporter):  # type: ignore[misc]  # doit is untyped
    """doit's console reporter, except that past the first `SHOWN` up-to-date tasks the rest are
    counted into one closing line ("-- and 380 more up to date: merge 190, stage 190"). At 200
    sources a no-op `doit` printed 400 "-- " lines, one write each (~10% of its time). Executed
    tasks, failures and everything else print as doit prints them; `doit --reporter console`
    gives doit's own output."""

    desc = "console; up-to-date tasks past the first 20 counted in one line"
    SHOWN = 20

    def __init__(self, outstream: Any, options: dict[str, Any]):
        super().__init__(outstream, options)
        self.shown = 0
        self.hidden: dict[str, int] = {}

    def skip_uptodate(self, task: Any) -> None:
        if self.shown < self.SHOWN:
            self.shown += 1
            super().skip_uptodate(task)
        elif task.name[0] != "_":
            group = task.name.partition(":")[0]
            self.hidden[group] = self.hidden.get(group, 0) + 1

    def complete_run(self) -> None:
        if self.hidden:
            counts = ", ".join(f"{group} {n}" for group, n in sorted(self.hidden.items()))
            self.write(f"-- and {sum(self.hidden.values())} more up to date: {counts}\n")
        super().complete_run()


# -- doit's state, read in one query ----------------------------------------------------------
def preload_state(task_names: Sequence[str]) -> None:
    """Read the doit state of these tasks in one query, into the backend's own per-process cache.

    doit's sqlite3 backend reads a task's row when it checks the task: one query per task,
    through a Python row factory (at 200 sources, 400 queries on every no-op `doit`, ~10 ms).
    A row read here is the same row, a moment earlier. With any other backend, or a doit whose
    SqliteDB looks different, this does nothing and doit reads as it always does."""
    from doit import Globals
    from doit.dependency import SqliteDB

    backend = getattr(Globals.dep_manager, "backend", None)
    cache = getattr(backend, "_cache", None)
    if not isinstance(backend, SqliteDB) or not isinstance(cache, dict):
        return
    wanted = [name for name in task_names if name not in cache]
    cursor = backend._conn.cursor()
    cursor.row_factory = None  # plain tuples; the task_data column is decoded by doit's converter
    for start in range(0, len(wanted), 500):  # sqlite's limit on parameters is 999 on old builds
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        query = f"select task_id, task_data from doit where task_id in ({marks})"
        for task_id, data in cursor.execute(query, chunk):
            if isinstance(data, dict):
                cache.setdefault(task_id, data)


# -- which task groups a command line needs ------------------------------------------------------
# doit builds every task of every group before it runs one. With 16 groups that is ~16 tasks
# per source, so a no-op `doit` at 200 sources spent most of its time making tasks it never
# looks at. `needed_sources` reads doit's command line and says, per group, which sources need
# tasks; a group nobody asked for (directly or as a dependency) gets none. Anything it does not
# understand means "every group, every source", doit's own behaviour.
EVERY = None  # every source of a group
DOIT_RUN = "run"  # doit's command that executes tasks (and the default one)
LIST_OPTIONS_WITHOUT_TASKS = {"-q", "--quiet", "--sort=name", "--sort=definition"}


def needed_sources(
    argv: Sequence[str], depends: dict[str, Sequence[str]], default: Sequence[str]
) -> dict[str, set[str] | None] | None:
    """{group: sources needing its tasks (None: all)} for a `doit` command line; None when
    every group is needed (`doit list`, `info`, `clean`, a target path, anything unclear).

    depends: group → the groups its tasks depend on for the same source, by task_dep or by a
    file_dep that is another task's target (tests check this table against the real graph)."""
    words = list(argv[1:])
    if words[:1] == ["list"] and set(words[1:]) <= LIST_OPTIONS_WITHOUT_TASKS:
        # plain `doit list` shows each group and its doc, and no source's task but `run:<s>`
        # (named one by one: doit reserves `run`)
        return {"run": EVERY}
    if words and words[0] == DOIT_RUN:
        words = words[1:]
    elif words and not words[0].startswith("-") and words[0].partition(":")[0] not in depends:
        return None  # another doit command (only the first word can be one): list, info, clean...
    wanted: dict[str, set[str] | None] = {}

    def want(group: str, source: str | None) -> None:
        have = wanted.get(group, set())
        if have is None or (source is not None and source in have):
            return
        wanted[group] = None if source is None else {*have, source}
        for needed in depends[group]:
            want(needed, source)

    for word in words:
        if word.startswith("-"):
            continue  # doit's options and task parameters
        group, _, source = word.partition(":")
        if group in depends:
            want(group, source or None)
        elif "/" in word or "." in word:
            return None  # a target path: doit finds its task among all of them
        # any other word is an option's value (`-n 4`, `--plan FILE`) or a name doit reports
    if not any(not w.startswith("-") and w.partition(":")[0] in depends for w in words):
        for group in default:
            want(group, None)
    return wanted
