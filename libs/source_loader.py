"""Find a source's `register_lakeflow_source` in its generated single-file module.

Works in the repo and in a deployed workspace folder (the folder on sys.path, `sources/` possibly
without __init__.py files, so namespace packages are fine).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from libs import runtime_names


class SourceNotFoundError(ImportError):
    pass


def _sources_dirs() -> list[Path]:
    return [Path(entry) / "sources" for entry in sys.path if (Path(entry) / "sources").is_dir()]


def _load_file(module_name: str, path: Path):
    """The generated file as a module, without importing its package: a connector folder's
    `__init__.py` may import things that exist only where it was written (upstream's does)."""
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


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
    file_name = runtime_names.generated_file_name(source_name)
    found = [d / source_name / file_name for d in dirs if (d / source_name / file_name).is_file()]
    if not found:
        raise SourceNotFoundError(
            f"sources/{source_name}/{file_name} is missing; "
            f"run `doit merge:{source_name}` (or deploy, which merges first)"
        )
    module_name = f"sources.{source_name}.{file_name.removesuffix('.py')}"
    module = _load_file(module_name, found[0])
    function = runtime_names.REGISTER_FUNCTION
    register = getattr(module, function, None)
    if not callable(register):
        raise SourceNotFoundError(f"{module_name} does not define {function}(spark)")
    return register
