"""Everything one source's deploy steps need, validated before the first remote call.

`prepare(name, session)` reads the specs, the connection values and the target; any bad input
fails here with one error naming the file and the field, so nothing is half-deployed. The session
(one per process per target) holds the workspace client, fetched on the first step that needs it,
and the state store.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from databricks.sdk import WorkspaceClient

from tools.lakeflow import connection, project, spec_checks, specs
from tools.lakeflow.core import Session, open_session
from tools.lakeflow.errors import LakeflowError
from tools.lakeflow.state import DeployState
from tools.lakeflow.targets import Target


@dataclass
class DeployContext:
    name: str
    session: Session
    pipeline: specs.PipelineSettings
    connector: specs.ConnectorSpec
    options: dict[str, str] = field(repr=False)  # holds secrets: never printed or stored
    secret_names: set[str] = field(default_factory=set)

    @property
    def root(self) -> Path:
        return self.session.root

    @property
    def target(self) -> Target:
        return self.session.target

    @property
    def state(self) -> DeployState:
        return self.session.state

    @property
    def client(self) -> WorkspaceClient:
        return self.session.client

    @property
    def source_state(self) -> dict[str, Any]:
        return self.state.source(self.name)

    @property
    def user_name(self) -> str:
        return self.session.user_name

    @property
    def user(self) -> str:
        return self.session.user

    @property
    def remote_root(self) -> str:
        return self.session.workspace_folder(self.name)

    @property
    def catalog(self) -> str:
        return self.pipeline.catalog or self.target.catalog

    @property
    def schema(self) -> str:
        return self.pipeline.schema or self.session.fill(self.target.schema, self.name)

    @property
    def pipeline_name(self) -> str:
        return f"{self.user}_{self.name}"

    @property
    def connection_name(self) -> str:
        return self.pipeline.connection_name


def prepare(
    name: str,
    root: Path = project.REPO_ROOT,
    session: Session | None = None,
    before_checks: Callable[[DeployContext], None] | None = None,
) -> DeployContext:
    """The validated context. `before_checks` runs once the specs are read and before the
    connector is checked against them (importing it takes ~0.2 s): a deploy starts its read-only
    requests there, in threads, so their round trips overlap that work. Nothing is written before
    every check passed."""
    if name not in project.source_names(root):
        raise LakeflowError(f"unknown source {name!r}", file=f"sources/{name}")
    connector_spec = specs.load_connector_spec(name, root)
    pipeline = specs.load_pipeline_spec(name, root)
    options, secret_names = connection.resolve_options(name, connector_spec, root)
    ctx = DeployContext(
        name=name,
        session=session or open_session(root),
        pipeline=pipeline,
        connector=connector_spec,
        options=options,
        secret_names=secret_names,
    )
    if before_checks is not None:
        before_checks(ctx)
    _check_spec_against_connector(ctx)
    return ctx


def _check_spec_against_connector(ctx: DeployContext) -> None:
    """The spec checked against the connector (importing it costs ~0.15 s), skipped when the
    merged file, the spec's tables, the options (by salted hash) and the check itself are what
    passed last time in this state store."""
    key = hashlib.sha256()
    for path in (project.generated_file(ctx.name, ctx.root), Path(spec_checks.__file__)):
        key.update(path.read_bytes() if path.is_file() else b"")
    key.update(json.dumps(ctx.pipeline.objects, sort_keys=True, default=str).encode())
    key.update(connection.options_hash(ctx.options, ctx.state.salt).encode())
    if ctx.source_state.get("spec_checked") == key.hexdigest():
        return
    spec_checks.check_against_connector(ctx.name, ctx.pipeline.objects, ctx.options, ctx.root)
    ctx.source_state["spec_checked"] = key.hexdigest()
    ctx.state.save()
