"""The merge tasks' file_dep, cached so that defining the tasks reads stat() results, not ASTs.

`merge.merge_inputs(name)` parses a connector and every module it imports. With hundreds of
connectors that parsing was most of a no-op `doit`. This module keeps each connector's result in
`.lakeflow/merge-inputs.json` and reuses it while none of what it was computed from changed:

- every input file, keyed by path and (size, mtime_ns); when the stat differs, by its content
  hash (a `touch` or a fresh checkout costs one hash, not a parse);
- every folder an import could newly resolve into (the inputs' folders, the connector's folder,
  libs/, pipeline/, sources/interface/), keyed by mtime_ns and then by its list of entries, so a
  new module that would change an import's resolution is noticed;
- the engine files that decide the graph (merge.py and this module): if they change, every entry
  is dropped.

Why a precomputed file and not doit's `calc_dep`: a calc_dep task needs its own file_dep fixed at
definition time, and for an import graph those are the very files the graph names, so it would
still have to parse to know them. The cache also keeps `doit list`/`doit info` showing the real
file_dep, and it survives `doit forget`. A missing, corrupt or foreign cache is rebuilt silently;
an entry is only ever reused after its files were checked, never trusted over them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from stat import S_ISREG
from typing import Any

from tools.lakeflow import project, stage

CACHE_VERSION = 1
# (merge itself is imported only to parse: every `doit` reads this module, few need a parse)
GRAPH_ENGINE = (Path(__file__).with_name("merge.py").resolve(), Path(__file__).resolve())
ENGINE_OF_MERGE = ("tools/lakeflow/merge.py", "tools/lakeflow/runtime_modules.py")
ENGINE_OF_STAGE = ("tools/lakeflow/stage.py", "tools/lakeflow/specs.py")
SHARED_FOLDERS = ("libs", "pipeline", "sources/interface")


def cache_path(root: Path = project.REPO_ROOT) -> Path:
    return project.lakeflow_dir(root) / "merge-inputs.json"


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _folder_hash(path: Path) -> str:
    return hashlib.sha256("\n".join(sorted(os.listdir(path))).encode()).hexdigest()


class _Stamps:
    """What each file or folder looked like: `{path: [size, mtime_ns, content hash]}`.

    A stamp is checked by stat first and by content hash only when the stat moved; a match by
    hash refreshes the stored stat so the next run is stat-only again. Results are memoised for
    one process, since the shared runtime is an input of every connector.
    """

    def __init__(self, stored: dict[str, list[Any]]):
        self.stored = stored
        self.checked: dict[str, bool] = {}
        self.recorded: set[str] = set()
        self.dirty = False

    def _now(self, path: str) -> tuple[int, int] | None:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        return (stat.st_size if S_ISREG(stat.st_mode) else -1), stat.st_mtime_ns

    def _content(self, path: str) -> str:
        return _folder_hash(Path(path)) if os.path.isdir(path) else _file_hash(Path(path))

    def unchanged(self, key: str) -> bool:
        if key in self.checked:
            return self.checked[key]
        stamp = self.stored.get(key)
        now = self._now(key)  # keys stay strings: ~1,000 of them at 200 sources
        same = False
        if now is not None and isinstance(stamp, list) and len(stamp) == 3:
            same = tuple(stamp[:2]) == now
            if not same and stamp[2] == self._content(key):
                self.stored[key] = [*now, stamp[2]]
                self.dirty = same = True
        self.checked[key] = same
        return same

    def record(self, key: str) -> None:
        """Store the current stamp. The verdict of `unchanged` stays: it answers "unchanged since
        the cache was written" for every connector of this run."""
        if key in self.recorded:
            return
        now = self._now(key)
        if now is None:
            self.stored.pop(key, None)
        else:
            self.stored[key] = [*now, self._content(key)]
        self.recorded.add(key)
        self.dirty = True


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    if not isinstance(data.get("stamps"), dict) or not isinstance(data.get("sources"), dict):
        return {}
    return data


def _save(path: Path, data: dict[str, Any]) -> None:
    """Write atomically: parallel doit processes may define tasks at the same moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, sort_keys=True))
    os.replace(temporary, path)


def _watched_folders(name: str, inputs: list[Path], root: Path) -> set[str]:
    folders = {project.source_dir(name, root), *(root / f for f in SHARED_FOLDERS)}
    return {str(f) for f in folders | {p.parent for p in inputs} if f.is_dir()}


def merge_inputs(names: list[str], root: Path = project.REPO_ROOT) -> dict[str, list[str]]:
    """`merge.merge_inputs` for every name, as path strings (what doit's file_dep takes),
    recomputed only for connectors whose files changed."""
    root = root.resolve()
    data = _load(cache_path(root))
    stamps = _Stamps(data.get("stamps", {}))
    entries: dict[str, Any] = data.get("sources", {})
    engine = [str(p) for p in GRAPH_ENGINE]
    if not all(stamps.unchanged(key) for key in engine):
        entries = {}
        for key in engine:
            stamps.record(key)
    usable = {
        name: entry
        for name in names
        if isinstance(entry := entries.get(name), dict)
        and isinstance(entry.get("inputs"), list)
        and isinstance(entry.get("folders"), list)
    }
    # Each file or folder is checked once, however many connectors read it.
    keys = {key for entry in usable.values() for key in (*entry["inputs"], *entry["folders"])}
    moved = {key for key in keys if not stamps.unchanged(key)}
    result: dict[str, list[str]] = {}
    for name in names:
        entry = usable.get(name)
        if entry and moved.isdisjoint(entry["inputs"]) and moved.isdisjoint(entry["folders"]):
            result[name] = entry["inputs"]
            continue
        from tools.lakeflow import merge

        inputs = merge.merge_inputs(name, root)
        folders = sorted(_watched_folders(name, inputs, root))
        entries[name] = {"inputs": [str(p) for p in inputs], "folders": folders}
        for key in [*entries[name]["inputs"], *folders]:
            if not stamps.unchanged(key):
                stamps.record(key)
        stamps.dirty = True
        result[name] = entries[name]["inputs"]
    # A run that defines some sources' tasks keeps the others' entries; a removed source's goes.
    gone = {n for n in entries if n not in names and not project.source_dir(n, root).is_dir()}
    if stamps.dirty or gone:
        kept = {n: e for n, e in entries.items() if n not in gone}
        used = {k for e in kept.values() for k in [*e["inputs"], *e["folders"]]} | set(engine)
        stored = {k: v for k, v in stamps.stored.items() if k in used}
        _save(cache_path(root), {"version": CACHE_VERSION, "stamps": stored, "sources": kept})
    return result


# -- one file_dep for what every source reads ----------------------------------------------------
# Every merge reads the shared runtime and every stage copies part of it. As file_dep of each
# source's tasks those ~15 files were checked by doit once per task: 6,000 checks at 200 sources
# for a no-op. Instead each group has one fingerprint file, a target of its own task (`shared`),
# rewritten only when the content of what it covers changed; the sources' tasks depend on it.
SHARED_INPUTS = {
    # every module a merge may pull in from outside the connector's folder, and the merge itself
    "merge": ("libs/*.py", "pipeline/*.py", "sources/interface/*.py", *ENGINE_OF_MERGE),
    # what a stage copies or renders for every source, and the stage itself
    "stage": (
        *stage.SHARED_STAGED,
        stage.INGEST_TEMPLATE.relative_to(project.REPO_ROOT).as_posix(),
        *ENGINE_OF_STAGE,
    ),
}


def shared_inputs(group: str, root: Path = project.REPO_ROOT) -> list[str]:
    """The files `group`'s fingerprint covers (absolute paths, sorted)."""
    return sorted(str(p) for pattern in SHARED_INPUTS[group] for p in root.glob(pattern))


def fingerprint_path(group: str, root: Path = project.REPO_ROOT) -> Path:
    return project.lakeflow_dir(root) / "shared" / f"{group}.sha256"


def write_fingerprint(group: str, root: Path = project.REPO_ROOT) -> bool:
    """Record the content of `group`'s shared inputs; the file is rewritten only when it changed
    (so a `touch` or a checkout that changes nothing re-runs no source's task)."""
    digest = hashlib.sha256()
    for path in shared_inputs(group, root):
        digest.update(f"{os.path.relpath(path, root)}\0".encode())
        digest.update(_file_hash(Path(path)).encode())
    line = f"{digest.hexdigest()}\n"
    target = fingerprint_path(group, root)
    if target.is_file() and target.read_text() == line:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(line)
    return True


def own_inputs(paths: list[str], group: str, root: Path = project.REPO_ROOT) -> list[str]:
    """`paths` without those the group's fingerprint covers."""
    covered = _covered(group, str(root))
    return [p for p in paths if p not in covered]


@functools.cache
def _covered(group: str, root: str) -> frozenset[str]:
    return frozenset(shared_inputs(group, Path(root)))
