"""`doit destroy:<s> --yes`: remove what deploy created for one source, and its state.

What deploy made is known from the state store, and without it (a lost `.lakeflow/`, another
machine) from the workspace itself: the pipeline by name and its `source_name` configuration key,
the connection and schema by name and the marker comment deploy writes on them, the files by the
manifest. Anything under the same names without those marks is left and reported, as are files in
deploy's folders that deploy did not put there. Folders are removed once empty.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from databricks.sdk.errors.base import DatabricksError

from tools.lakeflow import core, deploy_lock, pipeline_deploy, sync
from tools.lakeflow.context import DeployContext
from tools.lakeflow.errors import LakeflowError

BOOKKEEPING = (sync.MANIFEST, deploy_lock.LOCK_FILE)


def destroy_source(ctx: DeployContext, confirmed: bool) -> None:
    if not confirmed:
        raise LakeflowError(
            f"destroy removes the pipeline, connection, schema (if deploy made it) and files of "
            f"{ctx.name} on target {ctx.target.name!r}; confirm with `doit destroy:{ctx.name} --yes`"
        )
    with ctx.state.lock:
        ctx.state.reload()
        left = [*_pipeline(ctx), *_connections(ctx), *_files(ctx), *_schemas(ctx)]
        for what in left:
            print(f"left {what}")
        ctx.state.drop_source(ctx.name)
        ctx.state.save()


def _pipeline(ctx: DeployContext) -> list[str]:
    live = pipeline_deploy.live_pipeline(ctx)
    if live is None:
        return []
    name = live["spec"].get("name", ctx.pipeline_name)
    if (live["spec"].get("configuration") or {}).get("source_name") != ctx.name:
        return [f"pipeline {name} (not made by deploy: no source_name {ctx.name})"]
    core.delete_pipeline(ctx.client, live["pipeline_id"])
    print(f"removed pipeline {name}")
    return []


def _connections(ctx: DeployContext) -> list[str]:
    recorded = ctx.source_state.get("connection", {}).get("name")
    left = []
    for name in sorted({ctx.connection_name, recorded} - {None}):
        live = core.read_connection(ctx.client, name)
        if live is None:
            continue
        if name != recorded and not core.has_marker(live.get("comment"), ctx.name):
            left.append(f"connection {name} (not made by deploy)")
            continue
        core.delete_connection(ctx.client, name)
        print(f"removed connection {name}")
    return left


def _schemas(ctx: DeployContext) -> list[str]:
    recorded = ctx.source_state.get("schema", {})
    ours = {recorded["full_name"]} if recorded.get("created") else set()
    left = []
    for full_name in sorted({f"{ctx.catalog}.{ctx.schema}", *ours}):
        live = core.read_schema(ctx.client, full_name)
        if live is None:
            continue
        if full_name not in ours and not core.has_marker(live.get("comment"), ctx.name):
            left.append(f"schema {full_name} (not made by deploy)")
            continue
        try:
            core.delete_schema(ctx.client, full_name)
        except DatabricksError as error:  # e.g. it still holds tables
            left.append(f"schema {full_name} ({str(error).splitlines()[0]})")
            continue
        print(f"removed schema {full_name}")
    return left


def _ancestors(rel: str) -> set[str]:
    return {p.as_posix() for p in PurePosixPath(rel).parents}  # "." is the source's folder


def _files(ctx: DeployContext) -> list[str]:
    """Deploy's files (recorded, or in the manifest), then its folders, deepest first, unless
    something deploy did not put there is left in them."""
    root = ctx.remote_root
    listing = core.list_folder(ctx.client, root)
    manifest, _ = sync.read_manifest(ctx, listing)
    ours = {*ctx.source_state.get("files", {}), *(manifest or {})}
    foreign = sorted(rel for rel in listing.files if rel not in ours and rel not in BOOKKEEPING)
    removed = 0
    for rel in sorted(set(listing.files) - set(foreign)):
        core.delete_path(ctx.client, f"{root}/{rel}")
        removed += rel in ours
    our_folders = set().union(*map(_ancestors, ours))
    kept = set().union(*map(_ancestors, foreign))
    left = [f"{root}/{rel} (not made by deploy)" for rel in foreign]
    folders = 0
    for folder in sorted(
        {f or "." for f in listing.folders}, key=lambda f: -len(PurePosixPath(f).parts)
    ):
        path = root if folder == "." else f"{root}/{folder}"
        if folder not in our_folders:
            left.append(f"{path}/ (not made by deploy)")
            kept |= _ancestors(folder)
        elif folder not in kept:
            folders += core.delete_path(ctx.client, path)
    print(f"removed {removed} files and {folders} folders under {root}")
    return left
