"""The destination schema and the pipeline: created when missing, updated in place when changed.

The pipeline is never deleted and recreated (that loses its history and checkpoints): deploy reads
the live spec, overlays only the settings it manages, and writes it back only if that changed;
settings it does not manage stay as they are. A pipeline deleted out of band is recreated.
"""

from __future__ import annotations

from databricks.sdk.errors import NotFound

PIPELINES_API = "/api/2.0/pipelines"


# -- schema -----------------------------------------------------------------------------------
def schema_action(ctx) -> str:
    try:
        ctx.client.schemas.get(f"{ctx.catalog}.{ctx.schema}")
    except NotFound:
        return "create"
    return "unchanged"


def deploy_schema(ctx) -> str:
    action = schema_action(ctx)
    if action == "create":
        ctx.client.schemas.create(
            name=ctx.schema, catalog_name=ctx.catalog, comment=f"Lakeflow connector {ctx.name}"
        )
        ctx.source_state["schema"] = {"full_name": f"{ctx.catalog}.{ctx.schema}", "created": True}
        ctx.state.save()
    print(f"schema {ctx.catalog}.{ctx.schema}: {action}{'d' if action == 'create' else ''}")
    return action


# -- pipeline ---------------------------------------------------------------------------------
def desired_spec(ctx) -> dict:
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


def _live_pipeline(ctx) -> dict | None:
    """The live pipeline: by the id deploy recorded, else by name (a fresh clone adopts it)."""
    pipeline_id = ctx.source_state.get("pipeline", {}).get("pipeline_id")
    if pipeline_id:
        try:
            return ctx.client.api_client.do("GET", f"{PIPELINES_API}/{pipeline_id}")
        except NotFound:
            return None
    for status in ctx.client.pipelines.list_pipelines(filter=f"name LIKE '{ctx.pipeline_name}'"):
        return ctx.client.api_client.do("GET", f"{PIPELINES_API}/{status.pipeline_id}")
    return None


def pipeline_action(ctx) -> tuple[str, dict | None, dict]:
    live = _live_pipeline(ctx)
    wanted = desired_spec(ctx)
    if live is None:
        return "create", None, wanted
    merged = {**live["spec"], **wanted}
    return ("unchanged" if merged == live["spec"] else "update"), live, merged


def scd_changes(ctx) -> list[str]:
    """Tables whose scd_type changed since the last deploy: they need a full refresh."""
    before = ctx.source_state.get("pipeline", {}).get("scd_types", {})
    return sorted(
        t for t, scd in ctx.pipeline.scd_types.items() if t in before and before[t] != scd
    )


def deploy_pipeline(ctx) -> str:
    action, live, spec = pipeline_action(ctx)
    record = ctx.source_state.setdefault("pipeline", {})
    if action == "create":
        created = ctx.client.api_client.do("POST", PIPELINES_API, body=spec)
        record["pipeline_id"] = created["pipeline_id"]
    elif action == "update":
        pipeline_id = live["pipeline_id"]
        ctx.client.api_client.do(
            "PUT", f"{PIPELINES_API}/{pipeline_id}", body={**spec, "pipeline_id": pipeline_id}
        )
        record["pipeline_id"] = pipeline_id
    else:
        record["pipeline_id"] = live["pipeline_id"]
    changed = scd_changes(ctx)
    if changed:
        record["needs_full_refresh"] = sorted({*record.get("needs_full_refresh", []), *changed})
    record["scd_types"] = ctx.pipeline.scd_types
    ctx.state.save()
    print(
        f"pipeline {ctx.pipeline_name} ({record['pipeline_id']}): {action}{'d' if action != 'unchanged' else ''}"
    )
    if record.get("needs_full_refresh"):
        tables = ", ".join(record["needs_full_refresh"])
        print(f"  scd_type changed for {tables}: run `doit run:{ctx.name} --full-refresh`")
    return action


def delete_pipeline(ctx) -> bool:
    live = _live_pipeline(ctx)
    if live is None:
        return False
    ctx.client.pipelines.delete(live["pipeline_id"])
    return True
