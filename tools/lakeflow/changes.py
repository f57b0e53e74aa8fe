"""Which test targets a change affects: the local twin of upstream CI's path matrix.

A change inside `sources/<name>/` selects that connector. A change to the shared runtime
(libs/, pipeline/, the interface, the shared test suite, the simulator framework) selects every
connector. Anything else outside sources/ selects only the engine tests.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def ci_sessions(
    sessions: list[dict[str, Any]], changed: list[str] | None, sources: list[str]
) -> list[str]:
    """The nox sessions a CI run needs, from `nox -l --json`: every session except the
    `test(<target>)` ones whose target the change does not affect. `changed=None` (nothing to
    compare with, e.g. a new branch) selects them all."""
    affected = None if changed is None else affected_targets(changed, sources)
    selected = []
    for session in sessions:
        target = (session.get("call_spec") or {}).get("target")
        if affected is not None and session.get("name") == "test" and target not in affected:
            continue
        selected.append(session["session"])
    return selected


def main(argv: list[str] | None = None) -> int:
    """`nox -l --json | python -m tools.lakeflow.changes --since REF`: the CI job matrix."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--since", default="", help="git ref; empty or unknown selects all")
    args = parser.parse_args(argv)
    sessions = json.load(sys.stdin)
    try:
        changed = changed_files(args.since) if args.since else None
    except LakeflowError as error:
        print(f"selecting every session: {error}", file=sys.stderr)
        changed = None
    print(json.dumps({"session": ci_sessions(sessions, changed, project.source_names())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
