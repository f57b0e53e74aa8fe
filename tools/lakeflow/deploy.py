"""Deploy steps by source name: what the doit tasks call.

One context per source per process, so the steps of one `doit deploy:<s>` share a client, the
validated specs and the state store. The engine modules are imported on first use: importing
databricks-sdk takes about two seconds, which plain `doit` (merge and stage) should not pay.
"""

from __future__ import annotations

import importlib
from functools import cache


def _engine(module: str):
    return importlib.import_module(f"tools.lakeflow.{module}")


@cache
def _context(name: str):
    return _engine("context").prepare(name)


def sync_files(name: str) -> None:
    _engine("sync").sync_source(_context(name))


def deploy_connection(name: str) -> None:
    _engine("connection").deploy_connection(_context(name))


def deploy_schema(name: str) -> None:
    _engine("pipeline_deploy").deploy_schema(_context(name))


def deploy_pipeline(name: str) -> None:
    _engine("pipeline_deploy").deploy_pipeline(_context(name))


def run_pipeline(name: str, **options) -> None:
    _engine("run").run_pipeline(_context(name), **options)


def show_status(name: str) -> None:
    _engine("run").show_status(_context(name))


def show_plan(name: str) -> None:
    _engine("plan").plan_deploy(_context(name))


def authorize_source(name: str) -> None:
    _engine("auth").authorize(_context(name))


def destroy_source(name: str, yes: bool = False) -> None:
    _engine("destroy").destroy_source(_context(name), confirmed=yes)


def generate_notebooks(name: str) -> None:
    importlib.import_module("tools.notebook_based_deployment.deployer").generate_from_preset(name)


def deploy_notebooks(name: str) -> None:
    importlib.import_module("tools.notebook_based_deployment.deployer").deploy_from_preset(name)
