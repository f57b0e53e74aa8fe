"""Find a source's `register_lakeflow_source` in its generated single-file module.

Works in the repo and in a deployed workspace folder (the folder on sys.path, `sources/` possibly
without __init__.py files, so namespace packages are fine).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


class SourceNotFoundError(ImportError):
    pass


def _sources_dirs() -> list[Path]:
    return [Path(entry) / "sources" for entry in sys.path if (Path(entry) / "sources").is_dir()]


def get_register_function(source_name: str):
    if not source_name.isidentifier():
        raise SourceNotFoundError(f"invalid source name {source_name!r}")
    dirs = _sources_dirs()
    if not any((d / source_name).is_dir() for d in dirs):
        available = sorted(
            {p.name for d in dirs for p in d.iterdir() if p.is_dir() and p.name.isidentifier()}
        )
        raise SourceNotFoundError(
            f"source {source_name!r} not found; available: {', '.join(available) or 'none'}"
        )
    module_name = f"sources.{source_name}._generated_{source_name}_python_source"
    if not any(
        (d / source_name / f"_generated_{source_name}_python_source.py").is_file() for d in dirs
    ):
        raise SourceNotFoundError(
            f"sources/{source_name}/_generated_{source_name}_python_source.py is missing; "
            f"run `doit merge:{source_name}` (or deploy, which merges first)"
        )
    module = importlib.import_module(module_name)
    register = getattr(module, "register_lakeflow_source", None)
    if not callable(register):
        raise SourceNotFoundError(f"{module_name} does not define register_lakeflow_source(spark)")
    return register
