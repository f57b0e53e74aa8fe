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


def get_pipeline(client, pipeline_id: str) -> dict | None:
    try:
        return client.api_client.do("GET", f"{PIPELINES_API}/{pipeline_id}")
    except NotFound:
        return None


def find_pipeline(client, pipeline_id: str | None, name: str) -> dict | None:
    """The live pipeline: by the id deploy recorded, else by name (a fresh clone adopts it)."""
    if pipeline_id:
        return get_pipeline(client, pipeline_id)
    for status in client.pipelines.list_pipelines(filter=f"name LIKE '{name}'"):
        return get_pipeline(client, status.pipeline_id)
    return None


def pipeline_change(live: dict | None, desired: dict) -> tuple[str, dict]:
    """create, update or unchanged, and the spec to write: the live spec with the managed
    settings laid over it, so settings deploy does not manage stay as they are."""
    if live is None:
        return "create", desired
    merged = {**live["spec"], **desired}
    return ("unchanged" if merged == live["spec"] else "update"), merged


def apply_pipeline(client, action: str, live: dict | None, spec: dict) -> str:
    """Carry out `action`; returns the pipeline id. Never deletes and recreates."""
    if action == "create":
        return client.api_client.do("POST", PIPELINES_API, body=spec)["pipeline_id"]
    pipeline_id = live["pipeline_id"]
    if action == "update":
        body = {**spec, "pipeline_id": pipeline_id}
        client.api_client.do("PUT", f"{PIPELINES_API}/{pipeline_id}", body=body)
    return pipeline_id


def _live_pipeline(ctx) -> dict | None:
    recorded = ctx.source_state.get("pipeline", {}).get("pipeline_id")
    return find_pipeline(ctx.client, recorded, ctx.pipeline_name)


def pipeline_action(ctx) -> tuple[str, dict | None, dict]:
    live = _live_pipeline(ctx)
    action, spec = pipeline_change(live, desired_spec(ctx))
    return action, live, spec


def scd_changes(ctx) -> list[str]:
    """Tables whose scd_type changed since the last deploy: they need a full refresh."""
    before = ctx.source_state.get("pipeline", {}).get("scd_types", {})
    return sorted(
        t for t, scd in ctx.pipeline.scd_types.items() if t in before and before[t] != scd
    )


def deploy_pipeline(ctx) -> str:
    action, live, spec = pipeline_action(ctx)
    record = ctx.source_state.setdefault("pipeline", {})
    record["pipeline_id"] = apply_pipeline(ctx.client, action, live, spec)
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
