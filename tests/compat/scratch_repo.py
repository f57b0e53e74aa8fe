"""A scratch copy of the shared runtime with fixture connectors copied in as `sources/<name>/`,
as a user copies a connector folder from upstream."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

from tools.lakeflow import project

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_NAMES = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())
RUNTIME = ("libs", "pipeline", "sources/interface")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def scratch_repo(root: Path, fixtures=(), files: dict[str, str] | None = None) -> Path:
    """`root` with the runtime, the named fixtures and extra `files` (dedented) in it."""
    for folder in RUNTIME:
        shutil.copytree(project.REPO_ROOT / folder, root / folder, ignore=IGNORED)
    for name in fixtures:
        shutil.copytree(FIXTURES / name, root / "sources" / name, ignore=IGNORED)
    for rel, text in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root
