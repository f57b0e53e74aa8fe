"""`doit plan:<s>`: what a deploy would do, read-only, one line per file or resource."""

from __future__ import annotations

from tools.lakeflow import connection, pipeline_deploy, stage, sync

ACTIONS = ("create", "update", "delete", "unchanged")


def plan_deploy(ctx) -> dict[str, int]:
    lines: list[tuple[str, str]] = []
    files, _, _ = sync.plan_sync(ctx, stage.staged_files(ctx.name, ctx.root))
    for rel, reason in files.uploads.items():
        lines.append(("create" if reason == "new" else "update", f"file {rel} ({reason})"))
    lines += [("delete", f"file {rel}") for rel in files.deletes]
    lines += [("unchanged", f"file {rel}") for rel in files.unchanged]
    lines.append((connection.connection_action(ctx), f"connection {ctx.connection_name}"))
    lines.append((pipeline_deploy.schema_action(ctx), f"schema {ctx.catalog}.{ctx.schema}"))
    action, _, _ = pipeline_deploy.pipeline_action(ctx)
    lines.append((action, f"pipeline {ctx.pipeline_name}"))
    for kind, what in lines:
        print(f"  {kind:<9} {what}")
    counts = {a: sum(1 for k, _ in lines if k == a) for a in ACTIONS}
    print(
        f"Plan: {counts['create']} to add, {counts['update']} to change, "
        f"{counts['delete']} to delete, {counts['unchanged']} unchanged"
    )
    return counts
