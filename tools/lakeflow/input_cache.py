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

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tools.lakeflow import merge, project

CACHE_VERSION = 1
GRAPH_ENGINE = (Path(merge.__file__).resolve(), Path(__file__).resolve())
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

    def _now(self, path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        return (stat.st_size if path.is_file() else -1), stat.st_mtime_ns

    def _content(self, path: Path) -> str:
        return _folder_hash(path) if path.is_dir() else _file_hash(path)

    def unchanged(self, key: str) -> bool:
        if key in self.checked:
            return self.checked[key]
        path, stamp = Path(key), self.stored.get(key)
        now = self._now(path)
        same = False
        if now is not None and isinstance(stamp, list) and len(stamp) == 3:
            same = tuple(stamp[:2]) == now
            if not same and stamp[2] == self._content(path):
                self.stored[key] = [*now, stamp[2]]
                self.dirty = same = True
        self.checked[key] = same
        return same

    def record(self, key: str) -> None:
        """Store the current stamp. The verdict of `unchanged` stays: it answers "unchanged since
        the cache was written" for every connector of this run."""
        if key in self.recorded:
            return
        path = Path(key)
        now = self._now(path)
        if now is None:
            self.stored.pop(key, None)
        else:
            self.stored[key] = [*now, self._content(path)]
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


def merge_inputs(names: list[str], root: Path = project.REPO_ROOT) -> dict[str, list[Path]]:
    """`merge.merge_inputs` for every name, recomputed only for connectors whose files changed."""
    root = root.resolve()
    data = _load(cache_path(root))
    stamps = _Stamps(data.get("stamps", {}))
    entries: dict[str, Any] = data.get("sources", {})
    engine = [str(p) for p in GRAPH_ENGINE]
    if not all(stamps.unchanged(key) for key in engine):
        entries = {}
        for key in engine:
            stamps.record(key)
    result: dict[str, list[Path]] = {}
    for name in names:
        entry = entries.get(name)
        if (
            isinstance(entry, dict)
            and isinstance(entry.get("inputs"), list)
            and isinstance(entry.get("folders"), list)
            and all(stamps.unchanged(k) for k in [*entry["inputs"], *entry["folders"]])
        ):
            result[name] = [Path(p) for p in entry["inputs"]]
            continue
        inputs = merge.merge_inputs(name, root)
        folders = sorted(_watched_folders(name, inputs, root))
        entries[name] = {"inputs": [str(p) for p in inputs], "folders": folders}
        for key in [*entries[name]["inputs"], *folders]:
            if not stamps.unchanged(key):
                stamps.record(key)
        stamps.dirty = True
        result[name] = inputs
    if stamps.dirty or set(entries) - set(names):
        kept = {n: entries[n] for n in names if n in entries}
        used = {k for e in kept.values() for k in [*e["inputs"], *e["folders"]]} | set(engine)
        stored = {k: v for k, v in stamps.stored.items() if k in used}
        _save(cache_path(root), {"version": CACHE_VERSION, "stamps": stored, "sources": kept})
    return result
