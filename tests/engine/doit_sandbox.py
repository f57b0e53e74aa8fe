"""A temporary copy of the repo in which tests run the real `doit` and see which tasks ran."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.engine.warm_doit import WarmDoit
from tools.lakeflow import project

COPIED = (
    "dodo.py",
    "noxfile.py",
    "pyproject.toml",
    "targets.yaml",
    "libs",
    "pipeline",
    "sources",
    "tools",
    "tests",
)
IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "configs", ".lakeflow", "build", ".pytest_cache"
)
COLD = os.environ.get("LAKEFLOW_TEST_COLD_DOIT") == "1" or not hasattr(os, "fork")
WARM = WarmDoit()
# doit's default reporter: ".  name" for a task it executed ("-- name" for one up to date).
RAN = re.compile(r"^\.  (\S+)", re.MULTILINE)


class DoitSandbox:
    def __init__(self, path: Path, sources: tuple[str, ...] | None = None):
        self.root = path
        for name in COPIED:
            origin = project.REPO_ROOT / name
            if origin.is_dir():
                shutil.copytree(origin, path / name, ignore=IGNORED)
            elif origin.is_file():
                shutil.copy2(origin, path / name)
        if sources is not None:
            for child in (path / "sources").iterdir():
                if child.is_dir() and child.name not in (*sources, "interface"):
                    shutil.rmtree(child)

    def _env(self, env: dict | None) -> dict:
        # The Spark check has its own tests (tests/spark); here it would add a minute a deploy.
        return {
            **os.environ,
            "PYTHONPATH": str(self.root),
            "LAKEFLOW_SKIP_CHECK": "1",
            **(env or {}),
        }

    def start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        """Start `doit <args>` without waiting (for runs that overlap)."""
        return subprocess.Popen(
            [sys.executable, "-m", "doit", *args],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self._env(env),
        )

    def doit(self, *args: str, check: bool = True, env: dict | None = None):
        """Run `doit <args>` in a new process to its end (forked warm: tests/engine/warm_doit.py)."""
        if COLD:
            result = subprocess.run(
                [sys.executable, "-m", "doit", *args],
                cwd=self.root,
                capture_output=True,
                text=True,
                env=self._env(env),
                timeout=600,
            )
        else:
            result = WARM.run(list(args), self.root, self._env(env), timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(
                f"doit {' '.join(args)} exited {result.returncode}\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def ran(self, *args: str) -> set[str]:
        """Run doit; return the names of the tasks it executed (not the up-to-date ones)."""
        return set(RAN.findall(self.doit(*args).stdout))

    def clone_source(self, name: str, new_name: str) -> None:
        """Copy connector `name` to `new_name`, renaming its files, as a second real connector."""
        origin = self.root / "sources" / name
        target = self.root / "sources" / new_name
        shutil.copytree(origin, target)
        for path in sorted(target.rglob(f"*{name}*"), reverse=True):
            path.rename(path.with_name(path.name.replace(name, new_name)))
        for path in target.rglob("*"):
            if path.is_file() and path.suffix in {".py", ".yaml", ".md", ".json", ".csv"}:
                text = path.read_text()
                text = text.replace(f"sources.{name}.{name}", f"sources.{new_name}.{new_name}")
                text = text.replace(f"sources.{name}", f"sources.{new_name}")
                path.write_text(text.replace(f"{name}_connection", f"{new_name}_connection"))

    def edit(self, rel: str, append: str) -> None:
        path = self.root / rel
        path.write_text(path.read_text() + append)
