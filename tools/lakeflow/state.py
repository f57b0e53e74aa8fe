"""The deploy state: one JSON store per target, `.lakeflow/state/<target>.json`, and its lock.

It records what deploy last made true remotely (file hashes, connection options hash, resource ids)
and is saved after every remote step that succeeded, so an interrupted deploy converges on the next
run. It never holds a secret: connection options are kept only as a salted hash.

Several processes may deploy to one target at once (`doit deploy:a` and `doit deploy:b` in two
shells). So every save is read-merge-write under the target's one lock: each top-level entry and
each source's record this process changed since it last read the file is written, every other one
is taken from the file as it is now. No process loses what another recorded.
"""

from __future__ import annotations

import copy
import getpass
import json
import os
import secrets
import socket
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

from tools.lakeflow import project
from tools.lakeflow.errors import LakeflowError

LOCK_TIMEOUT_ENV = "LAKEFLOW_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT_SECONDS = 120.0


def state_dir(root: Path = project.REPO_ROOT) -> Path:
    return project.lakeflow_dir(root) / "state"


def shown(path: Path) -> str:
    """A state file as errors name it: `.lakeflow/state/<file>`."""
    return Path(*path.parts[-3:]).as_posix()


class StateLock:
    """The one deploy lock of a target: a `filelock` lock plus a note saying who holds it.

    Re-entrant in a process (filelock counts acquisitions). When it cannot be had within the
    timeout, the error names the holder (owner, pid, command, since when) in one line.
    """

    def __init__(self, path: Path, timeout: float | None = None):
        self.path = path
        self.holder_path = path.with_name(path.name + ".holder")
        if timeout is None:
            timeout = float(os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT_SECONDS)
        self.timeout = timeout
        self._lock = FileLock(str(path))

    def holder(self) -> dict[str, Any]:
        try:
            note = json.loads(self.holder_path.read_text())
        except (OSError, ValueError):
            return {}
        return note if isinstance(note, dict) else {}

    def __enter__(self) -> StateLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(timeout=self.timeout)
        except Timeout:
            note = self.holder()
            who = (
                f"{note.get('owner', '?')} (pid {note.get('pid', '?')}, "
                f"{note.get('command', '?')}, since {note.get('since', '?')})"
                if note
                else "another process"
            )
            raise LakeflowError(
                f"deploy lock held by {who}; gave up after {self.timeout:g}s "
                f"(raise {LOCK_TIMEOUT_ENV} to wait longer)",
                file=shown(self.path),
            ) from None
        if self._lock.lock_counter == 1:
            note = {
                "owner": f"{getpass.getuser()}@{socket.gethostname()}",
                "pid": os.getpid(),
                "command": " ".join(os.path.basename(a) for a in sys.argv[:2]) or "python",
                "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            self.holder_path.write_text(json.dumps(note))
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._lock.lock_counter == 1:
            self.holder_path.unlink(missing_ok=True)
        self._lock.release()


class DeployState:
    """The state store of one target. `data` is this process's view; `save()` merges it."""

    def __init__(self, target: str, root: Path = project.REPO_ROOT):
        self.path = state_dir(root) / f"{target}.json"
        self.lock = StateLock(self.path.with_suffix(".lock"))
        self.data: dict[str, Any] = {"sources": {}}
        self._base: dict[str, Any] = {"sources": {}}  # the file as this process last read it
        with self.lock:
            self._merge_file()
            if "salt" not in self.data:  # the first process creates the salt, once
                self.data["salt"] = secrets.token_hex(16)
                self._write()

    @property
    def salt(self) -> str:
        # The state file may be deleted while a process runs; a new salt then, never a KeyError
        # (the next deploy re-hashes the connection options once).
        salt: str = self.data.setdefault("salt", secrets.token_hex(16))
        return salt

    def source(self, name: str) -> dict[str, Any]:
        """One source's record (created empty); change it in place, then `save()`."""
        record: dict[str, Any] = self.data["sources"].setdefault(name, {})
        return record

    def drop_source(self, name: str) -> None:
        self.data["sources"].pop(name, None)

    def reload(self) -> None:
        """Take in what other processes saved (this process's unsaved changes are kept)."""
        with self.lock:
            self._merge_file()

    def save(self) -> None:
        with self.lock:
            self._merge_file()
            self._write()

    # -- merging ----------------------------------------------------------------------------
    def _read_file(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {"sources": {}}
        try:
            data = json.loads(self.path.read_text())
        except ValueError as error:
            raise LakeflowError(f"not valid JSON: {error}", file=shown(self.path)) from None
        data.setdefault("sources", {})
        return data if isinstance(data, dict) else {"sources": {}}

    def _merge_file(self) -> None:
        """Three-way merge: what this process changed since `_base` wins, the file has the rest.

        Mutated in place, so records handed out by `source()` stay the live ones.
        """
        disk = self._read_file()
        merge_entries(self.data, self._base, disk, skip="sources")
        merge_entries(self.data["sources"], self._base["sources"], disk["sources"])
        self._base = copy.deepcopy(self.data)

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)
        self._base = copy.deepcopy(self.data)


_MISSING = object()


def merge_entries(
    mine: dict[str, Any], base: dict[str, Any], theirs: dict[str, Any], skip: str | None = None
) -> None:
    """Bring `mine` up to `theirs` except for the keys `mine` changed since `base` (in place)."""
    for key in {*mine, *base, *theirs} - {skip}:
        ours = mine.get(key, _MISSING)
        if ours != base.get(key, _MISSING):
            continue  # changed (or removed) here: ours wins
        other = theirs.get(key, _MISSING)
        if other is _MISSING:
            mine.pop(key, None)
        elif isinstance(ours, dict) and isinstance(other, dict):
            _become(ours, other)
        else:
            mine[key] = copy.deepcopy(other)


def _become(mine: dict[str, Any], other: dict[str, Any]) -> None:
    """Make `mine` equal to `other` in place, at every depth.

    Whoever holds a record (or a dict inside one, like a source's `jobs`) keeps the live one:
    replacing nested dicts would leave such a holder writing into a copy that is never saved.
    """
    for key in [key for key in mine if key not in other]:
        del mine[key]
    for key, value in other.items():
        current = mine.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _become(current, value)
        else:
            mine[key] = copy.deepcopy(value)
