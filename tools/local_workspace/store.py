"""The local workspace's state on disk: one JSON document plus content-addressed file blobs.

Every request runs under an exclusive file lock, re-reads the document and writes it back (atomic
replace) only when it changed, so several processes can share one workspace: a second `doit`
sees the first one's deploy.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from pathlib import Path

EMPTY_STATE = {
    "counter": 1000,
    "workspace": {"/": {"object_type": "DIRECTORY", "object_id": 1, "modified_at": 0}},
    "connections": {},
    "schemas": {},
    "volumes": {},
    "files": {},
    "pipelines": {},
    "updates": {},
    "events": {},
    "jobs": {},
    "secrets": {},
    "faults": [],
}


class Store:
    def __init__(self, state_dir: Path):
        self.dir = Path(state_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.blobs = self.dir / "blobs"
        self.blobs.mkdir(exist_ok=True)
        self.path = self.dir / "state.json"
        self.lock_path = self.dir / ".lock"

    @contextlib.contextmanager
    def transaction(self):
        """The state, exclusively; written back if the caller changed it."""
        with open(self.lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                raw = self.path.read_text() if self.path.is_file() else ""
                state = json.loads(raw) if raw else json.loads(json.dumps(EMPTY_STATE))
                before = json.dumps(state, sort_keys=True)
                yield state
                after = json.dumps(state, sort_keys=True)
                if after != before:
                    tmp = self.path.with_suffix(".tmp")
                    tmp.write_text(after)
                    os.replace(tmp, self.path)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def put_blob(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        target = self.blobs / digest
        if not target.exists():
            tmp = target.with_suffix(".tmp")
            tmp.write_bytes(content)
            os.replace(tmp, target)
        return digest

    def blob(self, digest: str) -> bytes:
        return (self.blobs / digest).read_bytes()

    def log_request(self, method: str, path: str, status: int) -> None:
        line = json.dumps({"method": method, "path": path, "status": status}) + "\n"
        with open(self.dir / "requests.jsonl", "a") as log:
            log.write(line)
