"""Which test targets a change affects: the local twin of upstream CI's path matrix.

A change inside `sources/<name>/` selects that connector. A change to the shared runtime
(libs/, pipeline/, the interface, the shared test suite, the simulator framework) selects every
connector. Anything else outside sources/ selects only the engine tests.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tools.lakeflow import project
from tools.lakeflow.errors import LakeflowError

ENGINE = "engine"
SHARED_PREFIXES = (
    "libs/",
    "pipeline/",
    "sources/interface/",
    "tests/connector_suite.py",
    "tools/simulator/",
    "pyproject.toml",
)


def changed_files(since: str, root: Path = project.REPO_ROOT) -> list[str]:
    """Files changed between `since` and the working tree, untracked files included."""

    def git(*args: str) -> list[str]:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise LakeflowError(
                f"git {' '.join(args)} failed: {result.stderr.strip()}", field="--since"
            )
        return [line for line in result.stdout.splitlines() if line]

    git("rev-parse", "--verify", "--quiet", f"{since}^{{commit}}")
    return sorted(
        {*git("diff", "--name-only", since), *git("ls-files", "--others", "--exclude-standard")}
    )


def affected_targets(paths: list[str], sources: list[str]) -> set[str]:
    """Connector names (and ENGINE) whose tests a change to `paths` should run."""
    selected: set[str] = set()
    for path in paths:
        if path.startswith(SHARED_PREFIXES):
            return {*sources, ENGINE}
        parts = path.split("/")
        if parts[0] == "sources" and len(parts) > 2 and parts[1] in sources:
            selected.add(parts[1])
        else:
            selected.add(ENGINE)
    return selected
