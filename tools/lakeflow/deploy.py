"""Deploy steps by source name: what the doit tasks call.

One context per source per process, all sharing one session per target (one workspace client,
one state store, one lock), so the steps of `doit deploy:<s>` share the client, the validated
specs and the state. The engine modules are imported on first use, inside each function: importing
databricks-sdk takes about two seconds, which plain `doit` (merge and stage) should not pay.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.lakeflow.context import DeployContext


@cache
def _context(name: str) -> DeployContext:
    from tools.lakeflow import context

    return context.prepare(name)


def _prefetch_checks(ctx: DeployContext) -> None:
    """Start the deploy's independent read-only checks together, in threads: the connection, the
    schema and the pipeline steps all follow the sync and take these results when they get
    there (each read once)."""
    from tools.lakeflow import connection, pipeline_deploy

    connection.live_connection(ctx, prefetch=True)
    pipeline_deploy.live_schema(ctx, prefetch=True)
    pipeline_deploy.live_pipeline(ctx, prefetch=True)


def sync_files(name: str) -> None:
    from tools.lakeflow import sync

    ctx = _context(name)
    _prefetch_checks(ctx)
    sync.sync_source(ctx)


def deploy_connection(name: str) -> None:
    from tools.lakeflow import connection

    connection.deploy_connection(_context(name))


def deploy_schema(name: str) -> None:
    from tools.lakeflow import pipeline_deploy

    pipeline_deploy.deploy_schema(_context(name))


def deploy_pipeline(name: str) -> None:
    from tools.lakeflow import pipeline_deploy

    pipeline_deploy.deploy_pipeline(_context(name))


def run_pipeline(name: str, **options: Any) -> None:
    from tools.lakeflow import run

    run.run_pipeline(_context(name), **options)


def show_status(name: str) -> None:
    from tools.lakeflow import run

    run.show_status(_context(name))


def show_plan(name: str, json_file: str = "") -> None:
    from tools.lakeflow import plan

    ctx = _context(name)
    _prefetch_checks(ctx)
    plan.plan_deploy(ctx, json_file=json_file)


def deploy_source(name: str, **options: Any) -> None:
    from tools.lakeflow import apply

    ctx = _context(name)
    _prefetch_checks(ctx)
    apply.deploy_source(ctx, **options)


def authorize_source(name: str) -> None:
    from tools.lakeflow import auth

    auth.authorize(_context(name))


def destroy_source(name: str, yes: bool = False) -> None:
    from tools.lakeflow import destroy

    destroy.destroy_source(_context(name), confirmed=yes)
