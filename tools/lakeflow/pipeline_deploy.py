"""The destination schema and the pipeline: created when missing, updated in place when changed.

The pipeline is never deleted and recreated (that loses its history and checkpoints): deploy reads
the live spec, overlays only the settings it manages, and writes it back only if that changed;
settings it does not manage stay as they are. A pipeline deleted out of band is recreated.
"""

from __future__ import annotations

from typing import Any

from tools.lakeflow import core
from tools.lakeflow.context import DeployContext
from tools.lakeflow.core import Change


# -- schema -----------------------------------------------------------------------------------
def live_schema(ctx: DeployContext, prefetch: bool = False) -> dict[str, Any] | None:
    """One read of the destination schema (started early by a deploy with `prefetch`)."""
    full_name = f"{ctx.catalog}.{ctx.schema}"
    return ctx.session.read_once(
        ("schema", full_name), lambda: core.read_schema(ctx.client, full_name), prefetch
    )


def plan_schema(ctx: DeployContext) -> list[Change]:
    """The destination schema; and the one deploy made before, when the config renamed it."""
    full_name = f"{ctx.catalog}.{ctx.schema}"
    changes = []
    recorded = ctx.source_state.get("schema", {})
    old = recorded.get("full_name")
    if recorded.get("created") and old and old != full_name and core.read_schema(ctx.client, old):
        changes.append(Change("schema", old, "delete", f"renamed to {full_name}"))
    live = live_schema(ctx)
    changes.append(
        Change("schema", full_name, "create" if live is None else "unchanged", live=live)
    )
    return changes


def apply_schema(ctx: DeployContext, changes: list[Change]) -> None:
    for change in changes:
        if change.action == "delete":
            core.delete_orphan(change, lambda name: core.delete_schema(ctx.client, name))
            if ctx.source_state.get("schema", {}).get("full_name") == change.name:
                ctx.source_state.pop("schema")
            ctx.state.save()
            continue
        if change.action == "create":
            core.create_schema(ctx.client, change.name, comment=core.marker(ctx.name))
        if change.action == "create" or core.has_marker(
            (change.live or {}).get("comment"), ctx.name
        ):
            # Also adopts the schema a deploy killed right after creating it never recorded.
            ctx.source_state["schema"] = {"full_name": change.name, "created": True}
            ctx.state.save()
        print(f"schema {change.name}: {change.action}{'d' if change.writes else ''}")


SCHEMA = core.Resource("schema", plan_schema, apply_schema)


def deploy_schema(ctx: DeployContext) -> str:
    return core.deploy(ctx, SCHEMA)[0].action


# -- pipeline ---------------------------------------------------------------------------------
def desired_spec(ctx: DeployContext) -> dict[str, Any]:
    """The settings deploy manages; everything else in the live spec is left alone."""
    settings = ctx.pipeline.settings
    spec = {
        "name": ctx.pipeline_name,
        "catalog": ctx.catalog,
        "schema": ctx.schema,
        "serverless": settings.get("serverless", True),
        "development": settings.get("development", True),
        "continuous": settings.get("continuous", False),
        "configuration": {**(settings.get("configuration") or {}), "source_name": ctx.name},
        "libraries": [{"file": {"path": f"{ctx.remote_root}/ingest.py"}}],
    }
    if settings.get("channel"):
        spec["channel"] = settings["channel"]
    return spec


def live_pipeline(ctx: DeployContext, prefetch: bool = False) -> dict[str, Any] | None:
    """The live pipeline, by the recorded id else by name (started early with `prefetch`; keyed
    by the recorded id, so a prefetch made before the state changed is not used)."""
    name = ctx.pipeline_name
    recorded = ctx.source_state.get("pipeline", {}).get("pipeline_id")
    read = lambda: core.find_pipeline(ctx.client, recorded, name)  # noqa: E731
    return ctx.session.read_once(("pipeline", recorded, name), read, prefetch)


def owned_spec(ctx: DeployContext) -> dict[str, Any]:
    """The settings deploy sets in this source's mode (files or managed)."""
    from tools.lakeflow import managed

    return managed.pipeline_spec(ctx) if managed.is_managed(ctx) else desired_spec(ctx)


def plan_pipeline(ctx: DeployContext) -> list[Change]:
    from tools.lakeflow import managed

    live = live_pipeline(ctx)
    desired = owned_spec(ctx)
    applied = ctx.source_state.get("pipeline", {}).get("applied")
    previously_owned = core.owned_paths(applied) if applied else []
    action, spec = managed.pipeline_change(ctx, live, desired, previously_owned)
    reason = ""
    if action == "update" and live is not None:
        reason = core.change_reason(live["spec"], desired, applied)
    return [Change("pipeline", ctx.pipeline_name, action, reason, desired=spec, live=live)]


def scd_changes(before: dict[str, str], now: dict[str, str]) -> list[str]:
    """Tables whose scd_type changed since the last deploy: they need a full refresh."""
    return sorted(t for t, scd in now.items() if t in before and before[t] != scd)


def apply_pipeline(ctx: DeployContext, changes: list[Change]) -> None:
    for change in changes:
        record = ctx.source_state.setdefault("pipeline", {})
        record["pipeline_id"] = core.write_pipeline(
            ctx.client, change.action, change.live, change.desired
        )
        record["applied"] = owned_spec(ctx)  # the keys deploy owns, for the next merge
        changed = scd_changes(record.get("scd_types", {}), ctx.pipeline.scd_types)
        if changed:
            record["needs_full_refresh"] = sorted({*record.get("needs_full_refresh", []), *changed})
        record["scd_types"] = ctx.pipeline.scd_types
        ctx.state.save()
        done = f"{change.action}{'d' if change.writes else ''}"
        why = f" ({change.reason})" if change.reason else ""
        print(f"pipeline {change.name} ({record['pipeline_id']}): {done}{why}")
        if record.get("needs_full_refresh"):
            tables = ", ".join(record["needs_full_refresh"])
            print(f"  scd_type changed for {tables}: run `doit run:{ctx.name} --full-refresh`")


PIPELINE = core.Resource("pipeline", plan_pipeline, apply_pipeline)


def deploy_pipeline(ctx: DeployContext) -> str:
    return core.deploy(ctx, PIPELINE)[0].action
