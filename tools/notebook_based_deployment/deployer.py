"""Deploy a connector's notebook pipelines from its preset, through the engine's deploy core.

This module only says what should exist (the desired state, from `generate.build`): the schema
and volume, the volume files the notebooks load (merged connector, libs/, pipeline/), one
notebook, one pipeline and (when scheduled) one job per pipeline group. `tools.lakeflow.core`
reads the live state, diffs and writes, with the target's one session, state store and lock:

- content hashes and `modified_at` for files and notebooks (an out-of-band edit is restored);
- pipelines and jobs: the live settings with the managed ones laid over them, so a setting
  changed out of band is put back, and `plan` says "changed out of band";
- what deploy made and the preset no longer asks for is removed: notebooks of removed groups,
  their pipelines, and their jobs (deleted, or paused when the preset says
  `jobs.on_removal: "pause"`).

Used by `doit notebook_deploy:<c>` / `doit notebook_plan:<c>` and by the workspace notebook,
which passes its own client.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from tools.lakeflow import core, project
from tools.lakeflow.core import Change
from tools.lakeflow.targets import selected_target
from tools.notebook_based_deployment.generate import (
    Generated,
    build,
    volume_dir,
    write,
)

# What the notebooks import from the volume besides the merged connector.
RUNTIME_FILES = ("libs/runtime_names.py", "libs/spec_parser.py", "pipeline/ingestion_pipeline.py")
OUT_OF_BAND = "changed out of band"


def _digest(content: bytes | str) -> str:
    data = content.encode() if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def _settings_digest(settings: dict) -> str:
    return _digest(json.dumps(settings, sort_keys=True))


@dataclass
class NotebookContext:
    """One connector's notebook deploy: the session (client, state, lock) and what to deploy."""

    session: core.Session
    generated: Generated

    @property
    def client(self):
        return self.session.client

    @property
    def state(self):
        return self.session.state

    @property
    def connector(self) -> str:
        return self.generated.connector

    @property
    def preset(self):
        return self.generated.preset

    @property
    def record(self) -> dict:
        return self.state.source(f"notebooks:{self.connector}")

    @cached_property
    def notebook_root(self) -> str:
        return self.session.workspace_folder(self.connector, f"{self.connector}_notebooks")

    @property
    def volume_dir(self) -> str:
        return volume_dir(self.preset)

    @property
    def pause_removed_jobs(self) -> bool:
        return self.preset.jobs.get("on_removal", "delete") == "pause"

    def note(self, change: Change) -> None:
        print(change.line())


# -- schema and volume ---------------------------------------------------------------------------
def _create_unless(exists: bool) -> str:
    return "unchanged" if exists else "create"


def plan_storage(ctx: NotebookContext) -> list[Change]:
    schema_name = f"{ctx.preset.catalog}.{ctx.preset.schema}"
    volume_name = f"{schema_name}.{ctx.preset.volume}"
    return [
        Change("schema", schema_name, _create_unless(core.schema_exists(ctx.client, schema_name))),
        Change("volume", volume_name, _create_unless(core.volume_exists(ctx.client, volume_name))),
    ]


def apply_storage(ctx: NotebookContext, changes: list[Change]) -> None:
    for change in changes:
        if change.kind == "schema" and change.writes:
            core.create_schema(ctx.client, change.name)
        elif change.kind == "volume" and change.writes:
            core.create_volume(ctx.client, change.name)
        ctx.note(change)


# -- volume files --------------------------------------------------------------------------------
def _volume_contents(ctx: NotebookContext) -> dict[str, bytes]:
    source = ctx.preset.generated_source
    contents = {source.name: source.read_bytes()}
    contents.update({rel: (ctx.session.root / rel).read_bytes() for rel in RUNTIME_FILES})
    return contents


def _recorded_files(entries: dict) -> dict[str, dict[str, Any]]:
    """State entries as {sha256, modified_at}; older states kept the bare sha256."""
    return {
        name: entry if isinstance(entry, dict) else {"sha256": entry, "modified_at": None}
        for name, entry in entries.items()
    }


def _entries(ctx: NotebookContext, key: str, normalize) -> dict:
    """The record's `key` entries, normalized, fetched afresh for every change: a state save
    refreshes records from the file in place, which replaces the nested dicts."""
    entries = ctx.record[key] = normalize(ctx.record.get(key, {}))
    return entries


def plan_volume_files(ctx: NotebookContext) -> list[Change]:
    desired = {rel: _digest(content) for rel, content in _volume_contents(ctx).items()}
    prefix = f"{ctx.volume_dir}/"
    # Volume listings carry no modified time we could compare: presence plus our hashes decide.
    live = {path.removeprefix(prefix): 0 for path in core.list_volume(ctx.client, ctx.volume_dir)}
    recorded = _recorded_files(ctx.record.get("volume_files", {}))
    return core.diff_files("volume file", desired, recorded, live)


def apply_volume_files(ctx: NotebookContext, changes: list[Change]) -> None:
    contents = _volume_contents(ctx)
    for change in changes:
        files = _entries(ctx, "volume_files", _recorded_files)
        path = f"{ctx.volume_dir}/{change.name}"
        if change.action == "delete":
            core.delete_volume_file(ctx.client, path)
            files.pop(change.name, None)
        else:
            if change.writes:
                core.write_volume_file(ctx.client, path, contents[change.name])
            files[change.name] = {"sha256": change.desired, "modified_at": None}
        ctx.state.save()
        ctx.note(change)


# -- notebooks -----------------------------------------------------------------------------------
def plan_notebooks(ctx: NotebookContext) -> list[Change]:
    desired = {group: _digest(text) for group, text in ctx.generated.notebooks.items()}
    listing = core.list_folder(ctx.client, ctx.notebook_root)
    recorded = _recorded_files(ctx.record.get("notebooks", {}))
    changes = core.diff_files("notebook", desired, recorded, listing.files)
    writes = [c.name for c in changes if c.action in ("create", "update")]
    if writes:
        folders = core.missing_folders(ctx.notebook_root, writes, listing)
        changes = [Change("folder", f, "create") for f in folders] + changes
    return changes


def apply_notebooks(ctx: NotebookContext, changes: list[Change]) -> None:
    for change in changes:
        notebooks = _entries(ctx, "notebooks", _recorded_files)
        path = f"{ctx.notebook_root}/{change.name}"
        if change.kind == "folder":
            core.make_folder(ctx.client, change.name)
        elif change.action == "delete":
            core.delete_path(ctx.client, path)
            notebooks.pop(change.name, None)
        elif change.writes:
            text = ctx.generated.notebooks[change.name]
            core.write_file(ctx.client, path, text.encode(), notebook=True)
            notebooks[change.name] = {"sha256": change.desired, "modified_at": None}
        else:
            notebooks[change.name] = {"sha256": change.desired, "modified_at": change.live}
        ctx.state.save()
        ctx.note(change)
    if any(c.writes and c.action != "delete" for c in changes if c.kind == "notebook"):
        live = core.list_folder(ctx.client, ctx.notebook_root).files  # the new modified_at
        for group, entry in _entries(ctx, "notebooks", _recorded_files).items():
            if entry.get("modified_at") is None and group in live:
                entry["modified_at"] = live[group]
        ctx.state.save()


# -- pipelines -----------------------------------------------------------------------------------
def desired_pipelines(ctx: NotebookContext) -> dict[str, dict]:
    """The bundle's pipelines with the preset's destination and the deployed notebook paths."""
    preset = ctx.preset
    pipelines = {}
    for key, spec in ctx.generated.resources["resources"]["pipelines"].items():
        group = spec["configuration"]["pipeline_group"]
        pipelines[key] = {
            **spec,
            "catalog": preset.catalog,
            "schema": preset.schema,
            "libraries": [{"notebook": {"path": f"{ctx.notebook_root}/{group}"}}],
        }
    return pipelines


def _recorded_resources(entries: dict, id_field: str) -> dict[str, dict]:
    """State entries as {<id_field>, desired}; older states kept a bare pipeline id."""
    return {
        key: entry if isinstance(entry, dict) else {id_field: entry}
        for key, entry in entries.items()
    }


def _plan_desired(kind: str, wanted: dict, recorded: dict, find, change) -> list[Change]:
    """One change per wanted pipeline or job: create, restore (gone out of band), update (our
    settings changed, or the live ones did: out of band) or unchanged."""
    changes = []
    for key, desired in wanted.items():
        known = recorded.get(key, {})
        live = find(known, desired)
        action, body = change(live, desired)
        if live is None:
            reason = "restore" if known else "new"
        elif action == "update":
            same = known.get("desired") == _settings_digest(desired)
            reason = OUT_OF_BAND if same else "changed"
        else:
            reason = ""
        changes.append(Change(kind, key, action, reason, desired=body, live=live))
    return changes


def _apply_resources(ctx, changes: list[Change], record_key: str, id_field: str, wanted: dict,
                     write, delete, note) -> None:  # fmt: skip
    """Carry out pipeline or job changes, recording each id (and a digest of what we asked
    for, which tells our changes from out-of-band ones) right after its write."""

    def entries() -> dict:
        return _entries(ctx, record_key, lambda e: _recorded_resources(e, id_field))

    for gone in set(entries()) - set(wanted) - {c.name for c in changes}:
        entries().pop(gone)  # removed from the preset and already gone from the workspace
    for change in changes:
        if change.action == "delete":
            delete(ctx.client, change.live[id_field])
            entries().pop(change.name, None)
        else:
            entry = {id_field: write(ctx.client, change.action, change.live, change.desired)}
            if change.name in wanted:
                entry["desired"] = _settings_digest(wanted[change.name])
            entries()[change.name] = entry
        ctx.state.save()
        note(change)


def plan_pipelines(ctx: NotebookContext) -> list[Change]:
    recorded = _recorded_resources(ctx.record.get("pipelines", {}), "pipeline_id")
    wanted = desired_pipelines(ctx)

    def find(known: dict, desired: dict) -> dict | None:
        return core.find_pipeline(ctx.client, known.get("pipeline_id"), desired["name"])

    changes = _plan_desired("pipeline", wanted, recorded, find, core.pipeline_change)
    for key in sorted(set(recorded) - set(wanted)):
        live = core.read_pipeline(ctx.client, recorded[key]["pipeline_id"])
        if live is not None:
            changes.append(Change("pipeline", key, "delete", "group removed", live=live))
    return changes


def apply_pipelines(ctx: NotebookContext, changes: list[Change]) -> None:
    _apply_resources(
        ctx, changes, "pipelines", "pipeline_id", desired_pipelines(ctx),
        core.write_pipeline, core.delete_pipeline, ctx.note,
    )  # fmt: skip


# -- jobs ----------------------------------------------------------------------------------------
def desired_jobs(ctx: NotebookContext) -> dict[str, dict]:
    """The bundle's jobs, each pointing at its pipeline's id (a placeholder before it exists)."""
    pipelines = _recorded_resources(ctx.record.get("pipelines", {}), "pipeline_id")
    jobs = {}
    for key, settings in ctx.generated.resources["resources"].get("jobs", {}).items():
        pipeline_key = key.removesuffix("_schedule")
        reference = f"${{resources.pipelines.{pipeline_key}.id}}"
        pipeline_id = pipelines.get(pipeline_key, {}).get("pipeline_id") or reference
        jobs[key] = json.loads(json.dumps(settings).replace(reference, pipeline_id))
    return jobs


def _contains(live, desired) -> bool:
    """Whether `live` holds everything `desired` says: a real workspace returns job settings
    with its defaults filled in (task `run_if`, `timeout_seconds`...), which are not drift."""
    if isinstance(desired, dict):
        return isinstance(live, dict) and all(
            key in live and _contains(live[key], value) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(live) == len(desired)
            and all(_contains(a, b) for a, b in zip(live, desired, strict=True))
        )
    return live == desired


def _job_change(live: dict | None, desired: dict) -> tuple[str, dict]:
    if live is not None and _contains(live["settings"], desired):
        return "unchanged", live["settings"]
    return core.job_change(live, desired)


def _paused(settings: dict) -> dict:
    schedule = {**settings.get("schedule", {}), "pause_status": "PAUSED"}
    return {**settings, "schedule": schedule}


def plan_jobs(ctx: NotebookContext) -> list[Change]:
    recorded = _recorded_resources(ctx.record.get("jobs", {}), "job_id")
    wanted = desired_jobs(ctx)

    def find(known: dict, desired: dict) -> dict | None:
        return core.find_job(ctx.client, known.get("job_id"), desired["name"])

    changes = _plan_desired("job", wanted, recorded, find, _job_change)
    for key in sorted(set(recorded) - set(wanted)):
        live = core.read_job(ctx.client, recorded[key]["job_id"])
        if live is None:
            continue
        if not ctx.pause_removed_jobs:
            changes.append(Change("job", key, "delete", "schedule removed", live=live))
            continue
        action, body = _job_change(live, _paused(live["settings"]))
        reason = "schedule removed: paused (jobs.on_removal)" if action == "update" else ""
        changes.append(Change("job", key, action, reason, desired=body, live=live))
    return changes


def _note_job(change: Change) -> None:
    schedule = (change.desired or change.live["settings"]).get("schedule", {})
    print(
        f"{change.line()} [{schedule.get('quartz_cron_expression')}, {schedule.get('pause_status')}]"
    )


def apply_jobs(ctx: NotebookContext, changes: list[Change]) -> None:
    _apply_resources(
        ctx,
        changes,
        "jobs",
        "job_id",
        desired_jobs(ctx),
        core.write_job,
        core.delete_job,
        _note_job,
    )


RESOURCES = (
    core.Resource("storage", plan_storage, apply_storage),
    core.Resource("volume file", plan_volume_files, apply_volume_files),
    core.Resource("notebook", plan_notebooks, apply_notebooks),
    core.Resource("pipeline", plan_pipelines, apply_pipelines),
    core.Resource("job", plan_jobs, apply_jobs),
)


# -- entry points --------------------------------------------------------------------------------
def _context(connector: str, client, root: Path) -> NotebookContext:
    """Everything validated (preset, CSV, target) before anything is written anywhere."""
    generated = build(connector, root)
    if client is not None:
        session = core.Session(selected_target(root), root, client=client)
    else:
        session = core.open_session(root)
    return NotebookContext(session=session, generated=generated)


def plan_from_preset(connector: str, client=None, root: Path = project.REPO_ROOT) -> dict:
    """`doit notebook_plan:<c>`: what notebook_deploy would do, read-only."""
    ctx = _context(connector, client, root)
    changes = core.plan(ctx, RESOURCES)
    for change in changes:
        print(change.line())
    print(core.summary(changes))
    return core.count(changes)


def deploy_from_preset(connector: str, client=None, root: Path = project.REPO_ROOT) -> int:
    """Generate, then deploy; returns the number of writes made (0 when nothing changed)."""
    ctx = _context(connector, client, root)
    write(ctx.generated, root)
    changes = [change for resource in RESOURCES for change in core.deploy(ctx, resource)]
    counts = core.count(changes)
    writes = sum(1 for c in changes if c.writes)
    print(
        f"notebook deploy {connector}: {writes} changes ({counts['create']} created, "
        f"{counts['update']} updated, {counts['delete']} deleted, {counts['unchanged']} unchanged)"
    )
    return writes
