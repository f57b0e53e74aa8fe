"""`doit plan:<s>`: what a deploy would do, read-only, one line per file or resource."""

from __future__ import annotations

from tools.lakeflow import connection, core, pipeline_deploy, sync
from tools.lakeflow.context import DeployContext

# The files path's resource kinds, in the order `doit deploy:<s>` applies them.
FILES_PATH = (sync.FILES, connection.CONNECTION, pipeline_deploy.SCHEMA, pipeline_deploy.PIPELINE)


def plan_deploy(ctx: DeployContext) -> dict[str, int]:
    changes = core.plan(ctx, FILES_PATH)
    for change in changes:
        print(change.line())
    print(core.summary(changes))
    return core.count(changes)
