"""The deploy state: one JSON store per target, `.lakeflow/state/<target>.json`.

It records what deploy last made true remotely (file hashes, connection options hash, resource ids)
and is saved after every remote step that succeeded, so an interrupted deploy converges on the next
run. It never holds a secret: connection options are kept only as a salted hash.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from tools.lakeflow import project


class DeployState:
    def __init__(self, target: str, root: Path = project.REPO_ROOT):
        self.path = project.lakeflow_dir(root) / "state" / f"{target}.json"
        self.data = json.loads(self.path.read_text()) if self.path.is_file() else {}
        self.data.setdefault("salt", secrets.token_hex(16))
        self.data.setdefault("sources", {})

    @property
    def salt(self) -> str:
        return self.data["salt"]

    def source(self, name: str) -> dict:
        return self.data["sources"].setdefault(name, {})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        os.replace(tmp, self.path)
