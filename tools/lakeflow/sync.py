"""Sync the stage to the workspace by content hash: upload only what changed.

Why a manifest beside the files (`<root>/<source>/.lakeflow_manifest.json`, sha256 per file) rather
than remote hashes: the workspace API returns no content hash, so comparing remote content would
mean exporting every file on every deploy. The manifest lets a fresh clone (no local state) learn
what is deployed with one export, and uploads nothing that is already identical.

The plan makes one recursive listing (a GET per folder). It shows files deleted out of band
(restored) and files whose `modified_at` differs from what deploy recorded (edited out of band,
re-uploaded). Deploy deletes only files it created itself and that are no longer staged.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tools.lakeflow import core, stage
from tools.lakeflow.context import DeployContext
from tools.lakeflow.core import Change

MANIFEST = ".lakeflow_manifest.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recorded(ctx: DeployContext, live_files: dict[str, int]) -> dict[str, dict[str, Any]]:
    """What deploy last uploaded: local state, or (fresh clone) the remote manifest."""
    recorded: dict[str, dict[str, Any]] | None = ctx.source_state.get("files")
    if recorded is not None:
        return recorded
    if MANIFEST not in live_files:
        return {}
    manifest = json.loads(core.read_file(ctx.client, f"{ctx.remote_root}/{MANIFEST}"))
    # Trust the manifest's hashes and adopt today's modified_at as the baseline.
    return {rel: {"sha256": digest, "modified_at": None} for rel, digest in manifest.items()}


def plan_files(ctx: DeployContext) -> list[Change]:
    """One change per staged or recorded file, preceded by the folders an upload needs."""
    from tools.lakeflow import managed

    # Managed mode stages no files: those files mode left are deleted (a mode switch).
    staged = {} if managed.is_managed(ctx) else stage.staged_files(ctx.name, ctx.root)
    listing = core.list_folder(ctx.client, ctx.remote_root)
    desired = {rel: sha256(path) for rel, path in staged.items()}
    changes = core.diff_files("file", desired, _recorded(ctx, listing.files), listing.files)
    if not any(c.writes for c in changes):
        return changes
    uploads = [c.name for c in changes if c.action in ("create", "update")]
    folders = core.missing_folders(ctx.remote_root, uploads, listing)  # the root holds the manifest
    return [Change("folder", f, "create") for f in folders] + changes


def apply_files(ctx: DeployContext, changes: list[Change]) -> None:
    uploads = any(c.kind == "file" and c.action in ("create", "update") for c in changes)
    staged = stage.staged_files(ctx.name, ctx.root) if uploads else {}
    files = ctx.source_state.setdefault("files", {})
    for gone in set(files) - {c.name for c in changes if c.kind == "file"}:
        files.pop(gone)  # neither staged nor in the workspace any more: nothing to track
    for change in changes:
        rel = change.name
        if change.kind == "folder":
            core.make_folder(ctx.client, rel)
        elif change.action == "delete":
            core.delete_path(ctx.client, f"{ctx.remote_root}/{rel}")
            files.pop(rel, None)
            ctx.state.save()
            print(f"  delete {rel} (no longer staged)")
        elif change.writes:
            core.write_file(ctx.client, f"{ctx.remote_root}/{rel}", staged[rel].read_bytes())
            files[rel] = {"sha256": change.desired, "modified_at": None}
            ctx.state.save()  # after each upload: an interrupted sync resumes where it stopped
            print(f"  upload {rel} ({change.reason})")
        else:  # unchanged; on a fresh clone this adopts the manifest's entry
            files[rel] = {"sha256": change.desired, "modified_at": change.live}
    if any(c.writes for c in changes):
        manifest = {rel: files[rel]["sha256"] for rel in sorted(files)}
        content = json.dumps(manifest, indent=1, sort_keys=True).encode()
        core.write_file(ctx.client, f"{ctx.remote_root}/{MANIFEST}", content)
        live_files = core.list_folder(ctx.client, ctx.remote_root).files
        for rel, entry in files.items():
            if entry.get("modified_at") is None and rel in live_files:
                entry["modified_at"] = live_files[rel]
    counts = core.count(c for c in changes if c.kind == "file")
    if not any(counts.values()):
        return  # nothing staged nor deployed (managed mode): nothing to report
    print(
        f"sync {ctx.name} → {ctx.remote_root}: {counts['create'] + counts['update']} uploaded, "
        f"{counts['delete']} deleted, {counts['unchanged']} unchanged"
    )


FILES = core.Resource("file", plan_files, apply_files)


def sync_source(ctx: DeployContext) -> list[Change]:
    return core.deploy(ctx, FILES)
