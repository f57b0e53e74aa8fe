"""A connector's wheel, for managed mode: built by hatchling, byte-identical for identical inputs.

The wheel holds one package, `lakeflow_connector_<source>`, whose `__init__.py` is the merged
file (`register_lakeflow_source(spark)`, self-contained), and declares it as an entry point of the
`lakeflow_connect.sources` group, so a runtime can find the registration without knowing the
package name. Project metadata comes from `sources/<s>/pyproject.toml` when the connector has one
(only its `[project]` name, version, description, requires-python and dependencies), and is
generated from the connector otherwise (name from the folder, dependencies from requirements.txt,
description from connector_spec.yaml's display_name).

Incrementality: the content hash of everything that goes into the wheel is kept beside it
(`build/wheel/<s>/inputs.sha256`); the same hash means the wheel on disk is already the answer.
Reproducibility: hatchling builds reproducibly (sorted entries, normalized permissions) and takes
every zip timestamp from SOURCE_DATE_EPOCH, which is pinned here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from libs import runtime_names
from tools.lakeflow import project
from tools.lakeflow.errors import LakeflowError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: tomli comes with hatchling there
    import tomli as tomllib

ENTRY_POINT_GROUP = "lakeflow_connect.sources"
# 1980-01-01, the earliest time a zip entry can carry: no build date leaks into the wheel.
SOURCE_DATE_EPOCH = "315532800"
DEFAULT_VERSION = "0.1.0"
REQUIRES_PYTHON = ">=3.10"
PROJECT_FIELDS = {"name", "version", "description", "requires-python", "dependencies"}
# Bump when the layout below changes, so old wheels are rebuilt.
LAYOUT_VERSION = "1"


def package_name(name: str) -> str:
    return f"lakeflow_connector_{name}"


def wheel_dir(name: str, root: Path = project.REPO_ROOT) -> Path:
    return root / "build" / "wheel" / name


def own_pyproject(name: str, root: Path = project.REPO_ROOT) -> Path:
    return project.source_dir(name, root) / "pyproject.toml"


def wheel_inputs(name: str, root: Path = project.REPO_ROOT) -> list[Path]:
    """The files the wheel is made of (for doit's file_dep); the connector's pyproject, when it
    has one, replaces the metadata otherwise read from requirements.txt and connector_spec.yaml."""
    source = project.source_dir(name, root)
    metadata = (
        [own_pyproject(name, root)]
        if own_pyproject(name, root).is_file()
        else [
            p for p in (source / "requirements.txt", source / "connector_spec.yaml") if p.is_file()
        ]
    )
    return [project.generated_file(name, root), *metadata]


def _requirements(path: Path) -> list[str]:
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def project_metadata(name: str, root: Path = project.REPO_ROOT) -> dict[str, Any]:
    """name, version, description, requires-python, dependencies of the connector's wheel."""
    path = own_pyproject(name, root)
    rel = path.relative_to(root).as_posix()
    if path.is_file():
        try:
            table = tomllib.loads(path.read_text()).get("project")
        except tomllib.TOMLDecodeError as error:
            raise LakeflowError(f"not valid TOML: {error}", file=rel) from None
        if not isinstance(table, dict):
            raise LakeflowError("missing [project] table", file=rel, field="project")
        for key in sorted(table):
            if key not in PROJECT_FIELDS:
                raise LakeflowError(
                    f"not used for the connector wheel (allowed: {', '.join(sorted(PROJECT_FIELDS))})",
                    file=rel,
                    field=f"project.{key}",
                )
        for key in ("name", "version"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise LakeflowError("expected a non-empty string", file=rel, field=f"project.{key}")
        deps = table.get("dependencies", [])
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise LakeflowError(
                "expected a list of strings", file=rel, field="project.dependencies"
            )
        return {
            "name": table["name"],
            "version": table["version"],
            "description": str(table.get("description", "")),
            "requires-python": str(table.get("requires-python", REQUIRES_PYTHON)),
            "dependencies": deps,
        }
    spec_path = project.source_dir(name, root) / "connector_spec.yaml"
    import yaml  # here: every `doit` imports this module, few build a wheel

    spec = yaml.safe_load(spec_path.read_text()) if spec_path.is_file() else {}
    display = (spec or {}).get("display_name") or name
    return {
        "name": f"lakeflow-connector-{name.replace('_', '-')}",
        "version": DEFAULT_VERSION,
        "description": f"Lakeflow community connector: {display}",
        "requires-python": REQUIRES_PYTHON,
        "dependencies": _requirements(project.source_dir(name, root) / "requirements.txt"),
    }


def render_pyproject(name: str, root: Path = project.REPO_ROOT) -> str:
    """The pyproject.toml the wheel is built from. JSON strings and arrays are valid TOML."""
    meta = project_metadata(name, root)
    package = package_name(name)
    return "\n".join(
        [
            "[build-system]",
            'requires = ["hatchling"]',
            'build-backend = "hatchling.build"',
            "",
            "[project]",
            *(f"{key} = {json.dumps(meta[key])}" for key in sorted(meta)),
            "",
            f'[project.entry-points."{ENTRY_POINT_GROUP}"]',
            f'{name} = "{package}:{runtime_names.REGISTER_FUNCTION}"',
            "",
            "[tool.hatch.build.targets.wheel]",
            f'packages = ["{package}"]',
            "",
        ]
    )


def inputs_hash(name: str, root: Path = project.REPO_ROOT) -> str:
    digest = hashlib.sha256(f"layout {LAYOUT_VERSION}\n".encode())
    digest.update(render_pyproject(name, root).encode())
    digest.update(project.generated_file(name, root).read_bytes())
    return digest.hexdigest()


def wheel_file_name(name: str, root: Path = project.REPO_ROOT) -> str:
    """What hatchling names the wheel (PEP 427 escaping of name and version)."""
    meta = project_metadata(name, root)
    dist = re.sub(r"[-_.]+", "_", meta["name"]).lower()
    return f"{dist}-{meta['version'].replace('-', '_')}-py3-none-any.whl"


def wheel_path(name: str, root: Path = project.REPO_ROOT) -> Path:
    return wheel_dir(name, root) / wheel_file_name(name, root)


def stamp_path(name: str, root: Path = project.REPO_ROOT) -> Path:
    return wheel_dir(name, root) / "inputs.sha256"


def build_wheel(name: str, root: Path = project.REPO_ROOT) -> bool:
    """Build `build/wheel/<s>/<wheel>` unless the wheel there was built from the same inputs.
    Returns whether it built."""
    merged = project.generated_file(name, root)
    if not merged.is_file():
        raise LakeflowError(
            f"merged file missing; run `doit merge:{name}`",
            file=merged.relative_to(root).as_posix(),
        )
    wanted = inputs_hash(name, root)
    target, stamp = wheel_path(name, root), stamp_path(name, root)
    if target.is_file() and stamp.is_file() and stamp.read_text().strip() == wanted:
        return False
    out = wheel_dir(name, root)
    tree = out / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    (tree / package_name(name)).mkdir(parents=True)
    (tree / "pyproject.toml").write_text(render_pyproject(name, root))
    shutil.copyfile(merged, tree / package_name(name) / "__init__.py")
    for old in out.glob("*.whl"):
        old.unlink()
    stamp.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "--target", "wheel", "--directory", str(out)],
        cwd=tree,
        env={**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not target.is_file():
        raise LakeflowError(
            f"hatchling could not build the wheel: {(result.stderr or result.stdout).strip()[-500:]}",
            file=f"sources/{name}",
        )
    shutil.rmtree(tree)
    stamp.write_text(wanted + "\n")
    print(f"wheel {target.name}: built ({target.stat().st_size} bytes)")
    return True
