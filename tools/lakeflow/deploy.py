"""Deploy steps by source name: what the doit tasks call.

One context per source per process, so the steps of one `doit deploy:<s>` share a client, the
validated specs and the state store.
"""

from __future__ import annotations

from functools import cache

from tools.lakeflow import connection, context, destroy, pipeline_deploy, plan, run, sync


@cache
def _context(name: str) -> context.DeployContext:
    return context.prepare(name)


def sync_files(name: str) -> None:
    sync.sync_source(_context(name))


def deploy_connection(name: str) -> None:
    connection.deploy_connection(_context(name))


def deploy_schema(name: str) -> None:
    pipeline_deploy.deploy_schema(_context(name))


def deploy_pipeline(name: str) -> None:
    pipeline_deploy.deploy_pipeline(_context(name))


def run_pipeline(name: str, full_refresh: bool = False) -> None:
    run.run_pipeline(_context(name), full_refresh=full_refresh)


def show_status(name: str) -> None:
    run.show_status(_context(name))


def show_plan(name: str) -> None:
    plan.plan_deploy(_context(name))


def destroy_source(name: str, yes: bool = False) -> None:
    destroy.destroy_source(_context(name), confirmed=yes)
