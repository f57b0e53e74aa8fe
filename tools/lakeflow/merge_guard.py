"""A merged file edited by hand is reported and regenerated, never staged and deployed silently.

doit re-runs `merge:<s>` when the merge's inputs change, but it checks a target only for
existence, so a hand edit of `_generated_<s>_python_source.py` would flow on to stage and deploy.
Each merge records the sha256 of what it wrote (`.lakeflow/merge/<s>.sha256`); the merge task is
up to date only while the file still has that hash. The stamp also holds the file's size and
mtime_ns: while those match, the file is not read again (a no-op `doit` at 200 sources would
otherwise hash 200 files); when they moved, the hash decides.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from tools.lakeflow import project


def stamp_file(name: str, root: Path = project.REPO_ROOT) -> Path:
    return Path(_stamp_path(name, root))


def _stamp_path(name: str, root: Path) -> str:
    return f"{root}/.lakeflow/merge/{name}.sha256"  # project.lakeflow_dir; a string, per source


def _digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _stat_key(path: str | Path) -> str:
    stat = os.stat(path)
    return f"{stat.st_size} {stat.st_mtime_ns}"


def unedited(name: str, root: Path = project.REPO_ROOT) -> bool:
    """doit uptodate: the generated file is exactly what the last merge wrote."""
    generated = project.generated_path(name, root)  # doit asks for every source on every `doit`
    try:
        with open(_stamp_path(name, root)) as stamp:
            recorded = stamp.read().split(maxsplit=1)
        stat_key = _stat_key(generated)
        if len(recorded) == 2 and recorded[1].strip() == stat_key:
            return True
        if not recorded or recorded[0] != _digest(generated):
            return False
    except OSError:
        return False
    _write_stamp(name, root, recorded[0], stat_key)  # touched, same content: stat-only again
    return True


def _write_stamp(name: str, root: Path, digest: str, stat_key: str) -> None:
    stamp = stamp_file(name, root)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(f"{digest} {stat_key}\n")


def merge_and_stamp(name: str, root: Path = project.REPO_ROOT) -> bool:
    """Merge (writing only on change) and record the result's hash; report a hand edit."""
    generated = project.generated_file(name, root)
    stamp = stamp_file(name, root)
    edited = stamp.is_file() and generated.is_file() and not unedited(name, root)
    from tools.lakeflow import merge  # here: a no-op `doit` only asks `unedited`

    written = merge.write_merged(name, root)
    if edited and written:
        print(
            f"{generated.relative_to(root)}: edited by hand, not by the merge; regenerated "
            f"(change sources/{name}/ and the merge rewrites it)",
            file=sys.stderr,  # doit shows a task's stderr; its stdout only at verbosity 2
        )
    _write_stamp(name, root, _digest(generated), _stat_key(generated))  # the merge just wrote it
    return written
