"""Managed mode: the connector as a wheel in a UC Volume and a pipeline with `ingestion_definition`.

A source picks its mode with a top-level `mode: files | managed` in pipeline_spec.yaml; a target
may set the default (`mode:` in targets.yaml); `files` is the default of defaults.

In managed mode deploy makes, in order: the schema, the target's volume (`volume:`, default
`lakeflow_connectors`; created when missing), the wheel at
`/Volumes/<catalog>/<schema>/<volume>/<source>/<sha256[:16]>/<wheel>` (the hash in the path means
a changed wheel is a changed dependency, so the pipeline installs the new one, and an unchanged
wheel is never uploaded again), the connection as type COMMUNITY, and the pipeline: serverless,
`ingestion_definition` (source_type COMMUNITY, the connection, one object per table),
`environment.dependencies` = the wheel, and the configuration flag that makes the runtime
register the wheel's data source. The files of files mode are not desired in managed mode (and
the wheel not in files mode): switching modes deletes what the other mode deployed, and the
pipeline is updated in place (never recreated), dropping the other mode's settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.lakeflow import core, sync, wheel
from tools.lakeflow.core import Change

if TYPE_CHECKING:
    from tools.lakeflow.context import DeployContext

DEFAULT_VOLUME = "lakeflow_connectors"
COMMUNITY = "COMMUNITY"
REGISTER_FLAG = "pipelines.managedIngestion.registerPythonDataSource"


def deploy_mode(ctx: DeployContext) -> str:
    """The source's mode: pipeline_spec.yaml's `mode`, else the target's, else files."""
    return ctx.pipeline.mode or ctx.target.mode or "files"


def is_managed(ctx: DeployContext) -> bool:
    return deploy_mode(ctx) == "managed"


# -- volume -------------------------------------------------------------------------------------
def volume_name(ctx: DeployContext) -> str:
    return f"{ctx.catalog}.{ctx.schema}.{ctx.target.volume or DEFAULT_VOLUME}"


def volume_dir(ctx: DeployContext) -> str:
    return f"/Volumes/{volume_name(ctx).replace('.', '/')}/{ctx.name}"


def plan_volume(ctx: DeployContext) -> list[Change]:
    if not is_managed(ctx):
        return []
    action = "unchanged" if core.volume_exists(ctx.client, volume_name(ctx)) else "create"
    return [Change("volume", volume_name(ctx), action)]


def apply_volume(ctx: DeployContext, changes: list[Change]) -> None:
    for change in changes:
        if change.action == "create":
            core.create_volume(ctx.client, change.name)
            ctx.source_state["volume"] = {"full_name": change.name, "created": True}
            ctx.state.save()
        print(f"volume {change.name}: {change.action}{'d' if change.writes else ''}")


VOLUME = core.Resource("volume", plan_volume, apply_volume)


# -- wheel --------------------------------------------------------------------------------------
def local_wheel(ctx: DeployContext) -> Path:
    """The built wheel (built now if its inputs changed: content-hash incrementality)."""
    wheel.build_wheel(ctx.name, ctx.root)
    return wheel.wheel_path(ctx.name, ctx.root)


def wheel_remote_path(ctx: DeployContext) -> str:
    built = local_wheel(ctx)
    digest = sync.sha256(built)[:16]
    return f"{volume_dir(ctx)}/{digest}/{built.name}"


def plan_wheel(ctx: DeployContext) -> list[Change]:
    """The wheel at its content-addressed path; the wheels deploy uploaded before, deleted."""
    recorded = ctx.source_state.get("wheel", {}).get("path")
    desired = wheel_remote_path(ctx) if is_managed(ctx) else None
    if desired is None and recorded is None:
        return []
    live = core.list_volume(ctx.client, volume_dir(ctx)) if recorded or desired else set()
    changes = []
    if desired:
        if desired in live:
            changes.append(Change("wheel", desired, "unchanged"))
        else:
            reason = "restore" if recorded == desired else "new"
            action = "update" if recorded == desired else "create"
            changes.append(Change("wheel", desired, action, reason, desired=desired))
    if recorded and recorded != desired and recorded in live:
        changes.append(Change("wheel", recorded, "delete"))
    return changes


def apply_wheel(ctx: DeployContext, changes: list[Change]) -> None:
    for change in changes:
        if change.action in ("create", "update"):
            core.write_volume_file(ctx.client, change.name, local_wheel(ctx).read_bytes())
            ctx.source_state["wheel"] = {"path": change.name}
        elif change.action == "delete":
            core.delete_volume_file(ctx.client, change.name)
            if ctx.source_state.get("wheel", {}).get("path") == change.name:
                ctx.source_state.pop("wheel")
        elif change.action == "unchanged":
            ctx.source_state["wheel"] = {"path": change.name}  # adopted (fresh clone)
        ctx.state.save()
        print(f"wheel {change.name}: {change.action}{'d' if change.writes else ''}")


WHEEL = core.Resource("wheel", plan_wheel, apply_wheel)


# -- pipeline -----------------------------------------------------------------------------------
def ingestion_objects(ctx: DeployContext) -> list[dict[str, Any]]:
    """pipeline_spec.yaml's objects as ingestion_definition objects (source_schema `default`)."""
    objects = []
    for obj in ctx.pipeline.objects:
        table = obj["table"]
        spec = {
            "source_schema": table.get("source_schema", "default"),
            "source_table": table["source_table"],
            "destination_catalog": table.get("destination_catalog") or ctx.catalog,
            "destination_schema": table.get("destination_schema") or ctx.schema,
        }
        if table.get("destination_table"):
            spec["destination_table"] = table["destination_table"]
        if table.get("table_configuration"):
            spec["table_configuration"] = dict(table["table_configuration"])
        objects.append({"table": spec})
    return objects


def pipeline_spec(ctx: DeployContext) -> dict[str, Any]:
    """Files mode's settings (name, catalog, schema, pipeline_spec.yaml's) without its library,
    plus the ingestion definition, the wheel and the registration flag."""
    from tools.lakeflow import pipeline_deploy

    spec = {k: v for k, v in pipeline_deploy.desired_spec(ctx).items() if k != "libraries"}
    spec["configuration"] = {**spec["configuration"], REGISTER_FLAG: "true"}
    spec["serverless"] = True  # environment.dependencies is a serverless setting
    spec["ingestion_definition"] = {
        "source_type": COMMUNITY,
        "connection_name": ctx.connection_name,
        "objects": ingestion_objects(ctx),
    }
    spec["environment"] = {"dependencies": [wheel_remote_path(ctx)]}
    return spec


def _other_modes_settings(ctx: DeployContext, live_spec: dict[str, Any]) -> set[str]:
    """What the other mode wrote and this one must remove: files mode's libraries; managed mode's
    ingestion_definition and (only when it lists our wheel) environment."""
    if is_managed(ctx):
        return {"libraries"}
    ours = any(
        str(d).startswith(f"{volume_dir(ctx)}/")
        for d in (live_spec.get("environment") or {}).get("dependencies") or []
    )
    return {"ingestion_definition", *(["environment"] if ours else [])}


def pipeline_change(
    ctx: DeployContext,
    live: dict[str, Any] | None,
    desired: dict[str, Any],
    previously_owned: Iterable[core.KeyPath] = (),
) -> tuple[str, dict[str, Any]]:
    """`core.pipeline_change`, after removing the other mode's settings from the live spec."""
    if live is None:
        return "create", desired
    base = {
        k: v for k, v in live["spec"].items() if k not in _other_modes_settings(ctx, live["spec"])
    }
    action, spec = core.overlay_change(base, desired, previously_owned)
    if action == "unchanged" and base != live["spec"]:
        action = "update"  # only a removal: still a write
    return action, spec
