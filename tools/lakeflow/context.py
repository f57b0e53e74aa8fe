"""Everything one deploy step needs, validated before the first remote call.

`prepare(name)` reads the specs, the connection values and the target; any bad input fails here
with one error naming the file and the field, so nothing is half-deployed. The workspace client
and the user name are fetched lazily, on the first step that needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from tools.lakeflow import connection, project, spec_checks, specs
from tools.lakeflow.errors import LakeflowError
from tools.lakeflow.state import DeployState
from tools.lakeflow.targets import Target, selected_target, workspace_client


@dataclass
class DeployContext:
    name: str
    root: Path
    target: Target
    state: DeployState
    pipeline: specs.PipelineSettings
    connector: specs.ConnectorSpec
    options: dict[str, str] = field(repr=False)  # holds secrets: never printed or stored
    secret_names: set[str] = field(default_factory=set)

    @cached_property
    def client(self):
        return workspace_client(self.target, self.root)

    @property
    def source_state(self) -> dict:
        return self.state.source(self.name)

    @cached_property
    def user_name(self) -> str:
        cached = self.state.data.get("user_name")
        if not cached:
            cached = self.client.current_user.me().user_name
            self.state.data["user_name"] = cached
            self.state.save()
        return cached

    @property
    def user(self) -> str:
        """The user name's local part, dots as underscores: the guide's naming."""
        return self.user_name.split("@")[0].replace(".", "_")

    def _fill(self, pattern: str) -> str:
        return pattern.format(user=self.user, user_name=self.user_name, source=self.name)

    @property
    def remote_root(self) -> str:
        return f"{self._fill(self.target.workspace_root).rstrip('/')}/{self.name}"

    @property
    def catalog(self) -> str:
        return self.pipeline.catalog or self.target.catalog

    @property
    def schema(self) -> str:
        return self.pipeline.schema or self._fill(self.target.schema)

    @property
    def pipeline_name(self) -> str:
        return f"{self.user}_{self.name}"

    @property
    def connection_name(self) -> str:
        return self.pipeline.connection_name


def prepare(name: str, root: Path = project.REPO_ROOT) -> DeployContext:
    if name not in project.source_names(root):
        raise LakeflowError(f"unknown source {name!r}", file=f"sources/{name}")
    target = selected_target(root)
    connector_spec = specs.load_connector_spec(name, root)
    pipeline = specs.load_pipeline_spec(name, root)
    options, secret_names = connection.resolve_options(name, connector_spec, root)
    spec_checks.check_against_connector(name, pipeline.objects, options, root)
    return DeployContext(
        name=name,
        root=root,
        target=target,
        state=DeployState(target.name, root),
        pipeline=pipeline,
        connector=connector_spec,
        options=options,
        secret_names=secret_names,
    )
