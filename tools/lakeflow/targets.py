"""Deploy targets (targets.yaml) and the workspace client for one.

`local` is the embedded workspace, started in-process once per run; a Databricks target uses the
SDK's unified auth (a ~/.databrickscfg profile, or host plus the usual environment variables).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from databricks.sdk import WorkspaceClient

from tools.lakeflow import project, sdk_client, uc_names
from tools.lakeflow.errors import LakeflowError

TARGETS_FILE = "targets.yaml"
TARGET_FIELDS = {
    "kind", "profile", "host", "catalog", "schema", "workspace_root", "mode", "volume",
}  # fmt: skip


@dataclass(frozen=True)
class Target:
    name: str
    kind: str
    catalog: str = "main"
    schema: str = "{user}_{source}"
    workspace_root: str = "/Workspace/Users/{user_name}"
    profile: str | None = None
    host: str | None = None
    mode: str | None = None  # the deploy mode of sources that set none (files | managed)
    volume: str | None = None  # managed mode: the UC volume wheels go to (in each schema)


def load_targets(root: Path = project.REPO_ROOT) -> tuple[dict[str, Target], str]:
    path = root / TARGETS_FILE
    data = yaml.safe_load(path.read_text()) if path.is_file() else {}
    data = data or {"default": "local", "targets": {"local": {"kind": "local"}}}
    targets = {}
    for name, raw in (data.get("targets") or {}).items():
        raw = raw or {}
        unknown = sorted(set(raw) - TARGET_FIELDS)
        if unknown:
            raise LakeflowError(
                "unknown field", file=TARGETS_FILE, field=f"targets.{name}.{unknown[0]}"
            )
        kind = raw.get("kind", "databricks")
        if kind not in ("local", "databricks"):
            raise LakeflowError(
                "expected local or databricks", file=TARGETS_FILE, field=f"targets.{name}.kind"
            )
        if raw.get("mode") not in (None, "files", "managed"):
            raise LakeflowError(
                "expected files or managed", file=TARGETS_FILE, field=f"targets.{name}.mode"
            )
        if kind == "databricks" and not (raw.get("profile") or raw.get("host")):
            raise LakeflowError(
                "a databricks target needs a profile or a host",
                file=TARGETS_FILE,
                field=f"targets.{name}",
            )
        targets[name] = Target(name=name, **{**raw, "kind": kind})
        uc_names.check_target(targets[name], file=TARGETS_FILE)
    return targets, data.get("default", "local")


def selected_target(root: Path = project.REPO_ROOT) -> Target:
    targets, default = load_targets(root)
    name = os.environ.get("LAKEFLOW_TARGET") or default
    if name not in targets:
        raise LakeflowError(
            f"unknown target {name!r} (defined: {', '.join(targets) or 'none'})",
            file=TARGETS_FILE,
            field="LAKEFLOW_TARGET",
        )
    return targets[name]


@cache
def _local_workspace(state_dir: str) -> tuple[str, str]:
    """Start the embedded workspace for the local target: its URL and its bearer token."""
    from tools.local_workspace import LocalWorkspace  # the engine's one import of it

    try:
        workspace = LocalWorkspace(Path(state_dir))
        return workspace.start(), workspace.token
    except (OSError, ValueError) as error:  # LAKEFLOW_LOCAL_PORT taken or not a number
        raise LakeflowError(
            f"cannot start the local workspace: {error}", field="LAKEFLOW_LOCAL_PORT"
        ) from None


def workspace_client(target: Target, root: Path = project.REPO_ROOT) -> WorkspaceClient:
    if target.kind == "local":
        url, token = _local_workspace(str(project.lakeflow_dir(root) / "local"))
        return sdk_client.connect(target.name, host=url, token=token)
    return sdk_client.connect(target.name, host=target.host, profile=target.profile)
