"""Where things live in the repo: one place that knows the layout."""

from __future__ import annotations

import os
from pathlib import Path

from libs import runtime_names

REPO_ROOT = Path(__file__).resolve().parents[2]
NOT_SOURCES = {"interface"}


def sources_dir(root: Path = REPO_ROOT) -> Path:
    return root / "sources"


def source_names(root: Path = REPO_ROOT) -> list[str]:
    """Every connector folder: `sources/<name>/<name>.py` exists."""
    folder = str(sources_dir(root))  # strings, not Paths: every `doit` lists every source
    return [
        name
        for name in sorted(os.listdir(folder))
        if name not in NOT_SOURCES
        and not name.startswith((".", "_"))
        and os.path.isfile(os.path.join(folder, name, f"{name}.py"))
    ]


def source_dir(name: str, root: Path = REPO_ROOT) -> Path:
    return sources_dir(root) / name


def generated_file(name: str, root: Path = REPO_ROOT) -> Path:
    return source_dir(name, root) / runtime_names.generated_file_name(name)


def generated_path(name: str, root: Path = REPO_ROOT) -> str:
    """`generated_file` as a string: every `doit` asks for it per source, and Paths cost more."""
    return f"{root}/sources/{name}/{runtime_names.generated_file_name(name)}"


def stage_dir(name: str, root: Path = REPO_ROOT) -> Path:
    return root / "build" / "stage" / name


def lakeflow_dir(root: Path = REPO_ROOT) -> Path:
    """Local, git-ignored working state (doit state, deploy state, local workspace)."""
    return root / ".lakeflow"
