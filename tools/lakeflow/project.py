"""Where things live in the repo: one place that knows the layout."""

from __future__ import annotations

from pathlib import Path

from libs import runtime_names

REPO_ROOT = Path(__file__).resolve().parents[2]
NOT_SOURCES = {"interface"}


def sources_dir(root: Path = REPO_ROOT) -> Path:
    return root / "sources"


def source_names(root: Path = REPO_ROOT) -> list[str]:
    """Every connector folder: `sources/<name>/<name>.py` exists."""
    found = []
    for child in sorted(sources_dir(root).iterdir()):
        if child.name in NOT_SOURCES or child.name.startswith((".", "_")):
            continue
        if (child / f"{child.name}.py").is_file():
            found.append(child.name)
    return found


def source_dir(name: str, root: Path = REPO_ROOT) -> Path:
    return sources_dir(root) / name


def generated_file(name: str, root: Path = REPO_ROOT) -> Path:
    return source_dir(name, root) / runtime_names.generated_file_name(name)


def stage_dir(name: str, root: Path = REPO_ROOT) -> Path:
    return root / "build" / "stage" / name


def lakeflow_dir(root: Path = REPO_ROOT) -> Path:
    """Local, git-ignored working state (doit state, deploy state, local workspace)."""
    return root / ".lakeflow"
