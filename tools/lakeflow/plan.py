"""`doit plan:<s>`: what a deploy would do, read-only, one line per file or resource.

`--json FILE` also writes the plan as data (tools.lakeflow.plan_data), for `doit deploy:<s> --plan FILE`.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

from tools.lakeflow import connection, core, managed, pipeline_deploy, sync
from tools.lakeflow.context import DeployContext

# The files path's resource kinds, in the order `doit deploy:<s>` applies them.
FILES_PATH = (sync.FILES, connection.CONNECTION, pipeline_deploy.SCHEMA, pipeline_deploy.PIPELINE)
# Managed mode's: the schema first (the volume lives in it), the files last (files mode's, removed).
MANAGED_PATH = (
    pipeline_deploy.SCHEMA,
    managed.VOLUME,
    managed.WHEEL,
    connection.CONNECTION,
    pipeline_deploy.PIPELINE,
    sync.FILES,
)


def resources(ctx: DeployContext) -> tuple[core.Resource[DeployContext], ...]:
    """The resource kinds of the source's mode. Each mode lists the other's leftovers too (files,
    wheel), which plan their removal after a mode switch and nothing otherwise."""
    return MANAGED_PATH if managed.is_managed(ctx) else (*FILES_PATH, managed.WHEEL)


def prefetch_reads(ctx: DeployContext) -> None:
    """Start a deploy's independent read-only checks together, in threads (the first one also
    connects): the folder listing, the connection, the schema and the pipeline. The steps take
    these results when they get there (each read once). A deploy that writes calls it again once
    it holds the workspace lock, so its plan under the lock costs one round trip, not four."""
    sync.live_listing(ctx, prefetch=True)
    connection.live_connection(ctx, prefetch=True)
    pipeline_deploy.live_schema(ctx, prefetch=True)
    pipeline_deploy.live_pipeline(ctx, prefetch=True)


def plan_deploy(ctx: DeployContext, json_file: str = "") -> dict[str, int]:
    # Building the wheel prints; with --json the plan's own lines stay on stdout.
    with contextlib.redirect_stdout(sys.stderr) if json_file else contextlib.nullcontext():
        changes = core.plan(ctx, resources(ctx))
    for change in changes:
        print(change.line())
    print(core.summary(changes))
    if json_file:
        from tools.lakeflow import plan_data

        document = plan_data.document(ctx, managed.deploy_mode(ctx), changes)
        Path(json_file).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
        print(
            f"plan written to {json_file} (apply it with `doit deploy:{ctx.name} --plan {json_file}`)"
        )
    return core.count(changes)
