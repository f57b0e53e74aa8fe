"""`doit destroy:<s> --yes`: remove what deploy created for one source, and its state."""

from __future__ import annotations

from tools.lakeflow import connection, core, pipeline_deploy
from tools.lakeflow.context import DeployContext
from tools.lakeflow.errors import LakeflowError
from tools.lakeflow.sync import MANIFEST


def destroy_source(ctx: DeployContext, confirmed: bool) -> None:
    if not confirmed:
        raise LakeflowError(
            f"destroy removes the pipeline, connection and files of {ctx.name} on target "
            f"{ctx.target.name!r}; confirm with `doit destroy:{ctx.name} --yes`"
        )
    with ctx.state.lock:
        ctx.state.reload()
        record = ctx.source_state
        if pipeline_deploy.delete_pipeline(ctx):
            print(f"deleted pipeline {ctx.pipeline_name}")
        if connection.delete_connection(ctx):
            print(f"deleted connection {ctx.connection_name}")
        for rel in sorted(record.get("files", {})) + [MANIFEST]:
            core.delete_path(ctx.client, f"{ctx.remote_root}/{rel}")
        print(f"deleted {len(record.get('files', {}))} files under {ctx.remote_root}")
        schema = record.get("schema", {})
        if schema.get("created") and core.delete_schema(ctx.client, schema["full_name"]):
            print(f"deleted schema {schema['full_name']}")
        ctx.state.drop_source(ctx.name)
        ctx.state.save()
