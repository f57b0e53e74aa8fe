"""The local workspace's state on disk: one JSON document plus content-addressed file blobs.

The state holds connection options and secrets, so the folder is 0700 and every file in it 0600;
`token` holds the bearer token that every request must carry, created once per workspace.

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
import secrets
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

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
        self.dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        self.dir.chmod(PRIVATE_DIR)
        self.blobs = self.dir / "blobs"
        self.blobs.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        self.path = self.dir / "state.json"
        self.lock_path = self.dir / ".lock"
        self.token_path = self.dir / "token"
        for existing in (self.path, self.token_path, self.dir / "requests.jsonl"):
            if existing.exists():  # made by an older version with the default umask
                existing.chmod(PRIVATE_FILE)

    def token(self) -> str:
        """This workspace's bearer token, created on first use."""
        with self._locked():
            if not self.token_path.is_file():
                _write_private(self.token_path, secrets.token_urlsafe(32).encode())
            return self.token_path.read_text().strip()

    @contextlib.contextmanager
    def _locked(self):
        with open(os.open(self.lock_path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE)) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def transaction(self):
        """The state, exclusively; written back if the caller changed it."""
        with self._locked():
            raw = self.path.read_text() if self.path.is_file() else ""
            state = json.loads(raw) if raw else json.loads(json.dumps(EMPTY_STATE))
            before = json.dumps(state, sort_keys=True)
            yield state
            after = json.dumps(state, sort_keys=True)
            if after != before:
                _write_private(self.path, after.encode())

    def put_blob(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        target = self.blobs / digest
        if not target.exists():
            _write_private(target, content)
        return digest

    def blob(self, digest: str) -> bytes:
        return (self.blobs / digest).read_bytes()

    def log_request(self, method: str, path: str, status: int, in_flight: int = 1) -> None:
        entry = {"method": method, "path": path, "status": status, "in_flight": in_flight}
        line = json.dumps(entry) + "\n"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        with open(os.open(self.dir / "requests.jsonl", flags, PRIVATE_FILE), "a") as log:
            log.write(line)


def _write_private(path: Path, content: bytes) -> None:
    """Replace `path` atomically with a file only its owner can read."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE), "wb") as out:
        out.write(content)
    os.replace(tmp, path)
