"""Deploy a connector's notebook pipelines from its preset, changing only what changed.

With the SDK against the selected target (the embedded local workspace by default): the merged
source (with the libs/ and pipeline/ modules the notebooks import) goes to the preset's UC volume,
the notebooks are imported into the workspace, the pipelines are created or updated in place and
the scheduled jobs created or reset. The same rules as `doit deploy`: content hashes in the target's
state store, one cheap read per resource to notice out-of-band changes, no delete-and-recreate.
Used by `doit notebook_deploy:<c>` and by the workspace notebook, which pass their own client.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

from databricks.sdk.errors import NotFound
from databricks.sdk.errors.platform import InvalidParameterValue
from databricks.sdk.service.workspace import ImportFormat, Language

from tools.lakeflow import project
from tools.lakeflow.core import find_pipeline, pipeline_change
from tools.lakeflow.core import write_pipeline as apply_pipeline
from tools.lakeflow.state import DeployState
from tools.lakeflow.targets import selected_target, workspace_client
from tools.notebook_based_deployment.generate import (
    build,
    generate_from_preset,  # noqa: F401 - `doit notebooks:<c>` calls it from here
    volume_dir,
    write,
)

# What the notebooks import from the volume besides the merged connector.
RUNTIME_FILES = ("libs/spec_parser.py", "pipeline/ingestion_pipeline.py")


def _digest(content: bytes | str) -> str:
    data = content.encode() if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


class NotebookDeployer:
    def __init__(self, connector: str, client=None, root: Path = project.REPO_ROOT, state=None):
        self.connector, self.root = connector, root
        target = selected_target(root)
        self.client = client or workspace_client(target, root)
        self.state = state or DeployState(target.name, root)
        self.record = self.state.source(f"notebooks:{connector}")
        self.target = target
        self.writes = 0

    def _note(self, what: str, action: str) -> None:
        if action != "unchanged":
            self.writes += 1
        print(f"  {action:<9} {what}")

    @property
    def user_name(self) -> str:
        if not self.state.data.get("user_name"):
            self.state.data["user_name"] = self.client.current_user.me().user_name
        return self.state.data["user_name"]

    def notebook_root(self) -> str:
        user = self.user_name.split("@")[0].replace(".", "_")
        base = self.target.workspace_root.format(
            user=user, user_name=self.user_name, source=self.connector
        )
        return f"{base.rstrip('/')}/{self.connector}_notebooks"

    # -- storage -------------------------------------------------------------------------------
    def ensure_volume(self, preset) -> None:
        schema_full = f"{preset.catalog}.{preset.schema}"
        try:
            self.client.schemas.get(schema_full)
        except NotFound:
            self.client.schemas.create(name=preset.schema, catalog_name=preset.catalog)
            self._note(f"schema {schema_full}", "create")
        try:
            self.client.volumes.read(f"{schema_full}.{preset.volume}")
        except NotFound:
            from databricks.sdk.service.catalog import VolumeType

            self.client.volumes.create(
                preset.catalog, preset.schema, preset.volume, VolumeType.MANAGED
            )
            self._note(f"volume {schema_full}.{preset.volume}", "create")

    def _volume_listing(self, directory: str) -> set[str]:
        found, pending = set(), [directory]
        while pending:
            folder = pending.pop()
            try:
                entries = list(self.client.files.list_directory_contents(folder))
            except NotFound:
                continue
            for entry in entries:
                path = entry.path.rstrip("/")
                (pending.append(path) if entry.is_directory else found.add(path))
        return found

    def upload_sources(self, preset) -> None:
        directory = volume_dir(preset)
        contents = {preset.generated_source.name: preset.generated_source.read_bytes()}
        contents.update({rel: (self.root / rel).read_bytes() for rel in RUNTIME_FILES})
        existing = self._volume_listing(directory)
        files = self.record.setdefault("volume_files", {})
        for rel, content in sorted(contents.items()):
            path = f"{directory}/{rel}"
            if path in existing and files.get(rel) == _digest(content):
                self._note(f"file {path}", "unchanged")
                continue
            self.client.files.upload(path, io.BytesIO(content), overwrite=True)
            files[rel] = _digest(content)
            self.state.save()
            self._note(f"file {path}", "upload")

    # -- notebooks -----------------------------------------------------------------------------
    def import_notebooks(self, notebooks: dict[str, str]) -> dict[str, str]:
        root = self.notebook_root()
        try:
            existing = {o.path for o in self.client.workspace.list(root)}
        except NotFound:
            existing = set()
            self.client.workspace.mkdirs(root)
        recorded = self.record.setdefault("notebooks", {})
        paths = {}
        for group, text in sorted(notebooks.items()):
            path = f"{root}/{group}"
            paths[group] = path
            if path in existing and recorded.get(group) == _digest(text):
                self._note(f"notebook {path}", "unchanged")
                continue
            self.client.workspace.import_(
                path,
                content=base64.b64encode(text.encode()).decode(),
                format=ImportFormat.SOURCE,
                language=Language.PYTHON,
                overwrite=True,
            )
            recorded[group] = _digest(text)
            self.state.save()
            self._note(f"notebook {path}", "import")
        return paths

    # -- pipelines and jobs --------------------------------------------------------------------
    def deploy_pipelines(self, preset, resources: dict, notebook_paths: dict[str, str]) -> None:
        pipelines = self.record.setdefault("pipelines", {})
        jobs = self.record.setdefault("jobs", {})
        for key, spec in resources["resources"]["pipelines"].items():
            group = spec["configuration"]["pipeline_group"]
            desired = {**spec, "catalog": preset.catalog, "schema": preset.schema}
            desired["libraries"] = [{"notebook": {"path": notebook_paths[group]}}]
            live = find_pipeline(self.client, pipelines.get(key), key)
            action, body = pipeline_change(live, desired)
            pipelines[key] = apply_pipeline(self.client, action, live, body)
            self.state.save()
            self._note(f"pipeline {key}", action)
        for key, settings in resources["resources"].get("jobs", {}).items():
            pipeline_key = key.removesuffix("_schedule")
            settings = json.loads(
                json.dumps(settings).replace(
                    f"${{resources.pipelines.{pipeline_key}.id}}", pipelines[pipeline_key]
                )
            )
            self._deploy_job(key, settings, jobs)

    def _deploy_job(self, key: str, settings: dict, jobs: dict) -> None:
        recorded = jobs.get(key, {})
        wanted = _digest(json.dumps(settings, sort_keys=True))
        live = None
        if recorded.get("job_id"):
            try:
                live = self.client.api_client.do(
                    "GET", "/api/2.2/jobs/get", query={"job_id": recorded["job_id"]}
                )
            except (NotFound, InvalidParameterValue):
                live = None
        if live is None:
            created = self.client.api_client.do("POST", "/api/2.2/jobs/create", body=settings)
            jobs[key] = {"job_id": created["job_id"], "settings_hash": wanted}
            action = "create"
        elif recorded.get("settings_hash") != wanted:
            body = {"job_id": recorded["job_id"], "new_settings": settings}
            self.client.api_client.do("POST", "/api/2.2/jobs/reset", body=body)
            jobs[key] = {**recorded, "settings_hash": wanted}
            action = "update"
        else:
            action = "unchanged"
        self.state.save()
        self._note(f"job {key} ({settings['schedule']['quartz_cron_expression']})", action)


def deploy_from_preset(connector: str, client=None, root: Path = project.REPO_ROOT) -> int:
    """Generate, then deploy; returns the number of writes made (0 when nothing changed).
    All input (preset, CSV, target) is checked before build/ or the workspace is touched."""
    generated = build(connector, root)
    deployer = NotebookDeployer(connector, client=client, root=root)
    write(generated, root)
    preset = generated.preset
    deployer.ensure_volume(preset)
    deployer.upload_sources(preset)
    paths = deployer.import_notebooks(generated.notebooks)
    deployer.deploy_pipelines(preset, generated.resources, paths)
    deployer.state.save()
    print(f"notebook deploy {connector}: {deployer.writes} changes")
    return deployer.writes
