"""The Unity Catalog connection (GENERIC_LAKEFLOW_CONNECT) of a source.

Options come from connector_spec.yaml's parameters, valued from the environment
(`LAKEFLOW_<SOURCE>_<PARAM>`), `sources/<s>/configs/dev_config.json` (git-ignored) or the
parameter's `default`, plus `sourceName` and `externalOptionsAllowList`. Deploy keeps only a salted
hash of them, compares it to decide on an update, and prints secrets as `***`.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.lakeflow import core, project
from tools.lakeflow.core import CONNECTIONS_API, Change
from tools.lakeflow.errors import LakeflowError

if TYPE_CHECKING:
    from tools.lakeflow.context import DeployContext
    from tools.lakeflow.specs import ConnectorSpec

CONNECTION_TYPE = "GENERIC_LAKEFLOW_CONNECT"
__all__ = ["CONNECTIONS_API"]  # auth reads the connection at the same address


def config_file(name: str, root: Path) -> Path:
    return project.source_dir(name, root) / "configs" / "dev_config.json"


def env_name(source: str, parameter: str) -> str:
    return f"LAKEFLOW_{source}_{parameter}".upper()


def resolve_options(
    name: str, spec: ConnectorSpec, root: Path = project.REPO_ROOT
) -> tuple[dict[str, str], set[str]]:
    """Connection options (with secret values) and the names of the secret ones."""
    path = config_file(name, root)
    rel = path.relative_to(root).as_posix()
    values: dict[str, object] = {}
    if path.is_file():
        try:
            values = json.loads(path.read_text())
        except ValueError as error:
            raise LakeflowError(f"not valid JSON: {error}", file=rel) from None
        if not isinstance(values, dict):
            raise LakeflowError("expected a JSON object", file=rel)
    known = {p.name for p in spec.parameters}
    for key in sorted(values):
        if key not in known:
            raise LakeflowError(
                f"unknown connection parameter (connector_spec.yaml has: {', '.join(sorted(known))})",
                file=rel,
                field=key,
            )
    options: dict[str, str] = {}
    for parameter in spec.parameters:
        value = os.environ.get(env_name(name, parameter.name), values.get(parameter.name))
        if value is None:
            value = parameter.default
        if value is None:
            if parameter.required:
                raise LakeflowError(
                    f"required connection parameter has no value; set it in {rel} or "
                    f"{env_name(name, parameter.name)}",
                    file=f"sources/{name}/connector_spec.yaml",
                    field=f"connection.parameters.{parameter.name}",
                )
            continue
        options[parameter.name] = str(value)
    options["sourceName"] = name
    options["externalOptionsAllowList"] = ",".join(spec.full_allowlist)
    return options, {p.name for p in spec.parameters if p.secret}


def options_hash(options: dict[str, str], salt: str) -> str:
    return hashlib.sha256((salt + json.dumps(options, sort_keys=True)).encode()).hexdigest()


def masked(options: dict[str, str], secret_names: set[str]) -> str:
    return ", ".join(
        f"{k}={'***' if k in secret_names else v}"
        for k, v in sorted(options.items())
        if k != "externalOptionsAllowList"
    )


def live_connection(ctx: DeployContext, prefetch: bool = False) -> dict[str, Any] | None:
    """One read of the live connection, None when it is missing (started early by a deploy with
    `prefetch`)."""
    name = ctx.connection_name
    read = lambda: core.read_connection(ctx.client, name)  # noqa: E731  (client made in the thread)
    found = ctx.session.read_once(("connection", name), read, prefetch)
    return found if isinstance(found, dict) else None


def connection_type(ctx: DeployContext) -> str:
    """GENERIC_LAKEFLOW_CONNECT in files mode, COMMUNITY in managed mode."""
    from tools.lakeflow import managed

    return managed.COMMUNITY if managed.is_managed(ctx) else CONNECTION_TYPE


def drifted_options(ctx: DeployContext, live_options: dict[str, str]) -> list[str]:
    """Option names whose live value differs from what deploy sets. Non-secret options compare
    by value, secret ones by salted hash, and only where the workspace returns them (Databricks
    does not return secrets). An option missing from the live connection is not counted: a
    workspace may hide options it deems sensitive, and that is not drift."""
    salt = ctx.state.salt
    found = []
    for key, live in sorted(live_options.items()):
        wanted = ctx.options.get(key)
        if wanted is None:
            found.append(key)  # added out of band
        elif key in ctx.secret_names:
            if options_hash({key: live}, salt) != options_hash({key: wanted}, salt):
                found.append(key)
        elif live != wanted:
            found.append(key)
    return found


def plan_connection(ctx: DeployContext) -> list[Change]:
    """create, update or unchanged: one read of the live connection; update when the options
    changed or drifted. A connection's type cannot be changed in place, so a mode switch replaces
    it (delete, then create). The connection deploy made before is deleted when the config
    renamed it."""
    changes = []
    recorded = ctx.source_state.get("connection", {})
    old = recorded.get("name")
    if old and old != ctx.connection_name:
        previous = core.read_connection(ctx.client, old)
        if previous and core.has_marker(previous.get("comment"), ctx.name):
            changes.append(Change("connection", old, "delete", f"renamed to {ctx.connection_name}"))
    wanted_type = connection_type(ctx)
    live = live_connection(ctx)
    if live is None:
        return [*changes, Change("connection", ctx.connection_name, "create", desired=wanted_type)]
    live_type = live.get("connection_type")
    if live_type != wanted_type:
        reason = f"type {live_type} → {wanted_type}: replaced"
        return [
            *changes,
            Change("connection", ctx.connection_name, "update", reason, wanted_type, live_type),
        ]
    reasons = []
    if recorded.get("name") != ctx.connection_name:
        reasons.append("adopted")  # deploy did not record it: made by a killed deploy, or a clone
    elif recorded.get("options_hash") != options_hash(ctx.options, ctx.state.salt):
        reasons.append("changed")
    drift = drifted_options(ctx, live.get("options") or {})
    if drift:
        reasons.append(f"drift: {', '.join(drift)}")
    action = "update" if reasons else "unchanged"
    why = "; ".join(reasons)
    return [
        *changes,
        Change("connection", ctx.connection_name, action, why, wanted_type, live_type),
    ]


def apply_connection(ctx: DeployContext, changes: list[Change]) -> None:
    for change in changes:
        if change.action == "delete":
            core.delete_orphan(change, lambda name: core.delete_connection(ctx.client, name))
            continue
        if not change.writes:
            print(f"connection {ctx.connection_name}: unchanged")
            continue
        replace = change.action == "update" and change.live != change.desired
        body: dict[str, object] = {"options": ctx.options}
        if replace:  # a connection's type cannot change in place
            core.delete_connection(ctx.client, ctx.connection_name)
        if change.action == "create" or replace:
            body.update(connection_type=change.desired, comment=core.marker(ctx.name))
        action = "create" if replace else change.action
        core.write_connection(ctx.client, action, ctx.connection_name, body)
        ctx.source_state["connection"] = {
            "name": ctx.connection_name,
            "options_hash": options_hash(ctx.options, ctx.state.salt),
        }
        ctx.state.save()
        shown = masked(ctx.options, ctx.secret_names)
        why = f"; {change.reason}" if change.reason else ""
        print(f"connection {ctx.connection_name}: {change.action}d ({shown}{why})")


CONNECTION: core.Resource[DeployContext] = core.Resource(
    "connection", plan_connection, apply_connection
)


def deploy_connection(ctx: DeployContext) -> str:
    return core.deploy(ctx, CONNECTION)[0].action
