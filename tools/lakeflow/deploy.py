"""Deploy steps by source name: what the doit tasks call.

One context per source per process, all sharing one session per target (one workspace client,
one state store, one lock), so the steps of `doit deploy:<s>` share the client, the validated
specs and the state. The engine modules are imported on first use, inside each function: importing
databricks-sdk takes about two seconds, which plain `doit` (merge and stage) should not pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.lakeflow.context import DeployContext

_contexts: dict[str, DeployContext] = {}


def _context(name: str, prefetch: bool = False) -> DeployContext:
    """The source's context, made once per process. With `prefetch` (the steps that plan), the
    deploy's read-only checks start as soon as the specs are read, before the connector check."""
    if name not in _contexts:
        from tools.lakeflow import context, plan

        before = plan.prefetch_reads if prefetch else None
        _contexts[name] = context.prepare(name, before_checks=before)
    return _contexts[name]


def import_engine() -> None:
    """Import what a deploy runs on (databricks-sdk alone is ~1 s of CPU): `doit deploy:<s>`
    does it in a thread while the Spark check before the deploy waits on Spark."""
    from tools.lakeflow import apply, context, plan  # noqa: F401


def sync_files(name: str) -> None:
    from tools.lakeflow import sync

    sync.sync_source(_context(name, prefetch=True))


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

    plan.plan_deploy(_context(name, prefetch=True), json_file=json_file)


def deploy_source(name: str, **options: Any) -> None:
    from tools.lakeflow import apply

    apply.deploy_source(_context(name, prefetch=True), **options)


def authorize_source(name: str) -> None:
    from tools.lakeflow import auth

    auth.authorize(_context(name))


def destroy_source(name: str, yes: bool = False) -> None:
    from tools.lakeflow import destroy

    destroy.destroy_source(_context(name), confirmed=yes)
