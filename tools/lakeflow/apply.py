"""`doit deploy:<s>`: one source's whole deploy, in either mode, as one planned, locked step.

1. Plan every resource of the source's mode (read-only). A no-op stops here: zero writes, no lock.
2. With `--plan FILE`, refuse unless the saved plan is what the plan says now (tools.lakeflow.plan_data).
3. With `--fail-on-active-runs`, refuse to update a pipeline that has an update running.
4. Take the deploy lock in the workspace (tools.lakeflow.deploy_lock; `--force-lock` takes it over),
   apply resource by resource through the deploy core (each re-plans under the state lock), release.
5. Close with one line: what was created, updated, deleted and left unchanged.

`doit deploy` (no source) runs this for every source; with LAKEFLOW_SINCE=<ref> only for sources
whose deploy inputs changed since that ref.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.lakeflow import core, managed
from tools.lakeflow.errors import LakeflowError

if TYPE_CHECKING:
    from tools.lakeflow.context import DeployContext

# Deploy inputs every source shares: a change here redeploys every source.
SHARED_INPUTS = (
    "libs/",
    "pipeline/",
    "sources/interface/",
    "targets.yaml",
    "tools/lakeflow/templates/",
)


def since_selects(name: str, root: Path) -> bool:
    """False when LAKEFLOW_SINCE is set and none of this source's deploy inputs changed."""
    since = os.environ.get("LAKEFLOW_SINCE")
    if not since:
        return True
    from tools.lakeflow.changes import changed_files

    return any(
        path.startswith(SHARED_INPUTS) or path.startswith(f"sources/{name}/")
        for path in changed_files(since, root)
    )


def _active_update(changes: list[core.Change]) -> str | None:
    for change in changes:
        if change.kind == "pipeline" and change.writes and isinstance(change.live, dict):
            for update in change.live.get("latest_updates") or []:
                if update.get("state") in ("QUEUED", "RUNNING", "INITIALIZING", "SETTING_UP"):
                    return str(update.get("update_id"))
    return None


def summary_line(name: str, changes: list[core.Change]) -> str:
    counts = core.count(changes)
    return (
        f"deploy {name}: {counts['create']} created, {counts['update']} updated, "
        f"{counts['delete']} deleted, {counts['unchanged']} unchanged"
    )


def _plan(
    ctx: DeployContext,
    kinds: Sequence[core.Resource[DeployContext]],
    saved: dict[str, Any] | None,
    plan_path: str,
) -> list[core.Change]:
    from tools.lakeflow import plan_data

    planned = core.plan(ctx, kinds)
    if saved is not None:
        current = plan_data.document(ctx, managed.deploy_mode(ctx), planned)
        plan_data.check_unchanged(saved, current, plan_path)
    return planned


def deploy_source(
    ctx: DeployContext, plan: str = "", force_lock: bool = False, fail_on_active_runs: bool = False
) -> list[core.Change]:
    from tools.lakeflow import deploy_lock, plan_data

    if not since_selects(ctx.name, ctx.root):
        since = os.environ["LAKEFLOW_SINCE"]
        print(f"deploy {ctx.name}: skipped (no deploy input changed since {since})")
        return []
    from tools.lakeflow.plan import prefetch_reads, resources

    kinds = resources(ctx)
    saved = plan_data.load(plan) if plan else None
    planned = _plan(ctx, kinds, saved, plan)
    if not any(c.writes for c in planned):
        print(summary_line(ctx.name, planned))
        return planned
    if fail_on_active_runs:
        running = _active_update(planned)
        if running:
            raise LakeflowError(
                f"pipeline {ctx.pipeline_name} has an active update ({running}); "
                "not updating it (--fail-on-active-runs)"
            )
    applied: list[core.Change] = []
    wait = float(os.environ.get("LAKEFLOW_DEPLOY_LOCK_WAIT", deploy_lock.WAIT_SECONDS))
    with deploy_lock.deploy_lock(
        ctx.client, ctx.remote_root, ctx.user_name, force=force_lock, wait_seconds=wait
    ):
        prefetch_reads(ctx)  # the plan under the lock, read afresh: one round trip
        if saved is not None:
            _plan(ctx, kinds, saved, plan)  # again under the lock: nothing moved in between
            print(f"plan {plan}: inputs and remote state as reviewed; applying it")
        for kind in kinds:
            applied += core.deploy(ctx, kind)
    print(summary_line(ctx.name, applied))
    return applied
