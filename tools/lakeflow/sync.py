"""Sync the stage to the workspace by content hash: upload only what changed.

Why a manifest beside the files (`<root>/<source>/.lakeflow_manifest.json`, sha256 per file) rather
than remote hashes: the workspace API returns no content hash, so comparing remote content would
mean exporting every file on every deploy. The manifest lets a fresh clone (no local state) learn
what is deployed with one export, and uploads nothing that is already identical.

Each deploy makes one recursive listing (a GET per folder). It shows files deleted out of band
(restored) and files whose `modified_at` differs from what deploy recorded (edited out of band,
re-uploaded). Deploy deletes only files it created itself and that are no longer staged.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from databricks.sdk.errors import NotFound
from databricks.sdk.service.workspace import ImportFormat, ObjectType

from tools.lakeflow import stage

MANIFEST = ".lakeflow_manifest.json"


@dataclass
class SyncPlan:
    uploads: dict[str, str] = field(default_factory=dict)  # rel → reason (new/changed/...)
    deletes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing_dirs: list[str] = field(default_factory=list)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def remote_listing(ctx) -> tuple[dict[str, int], set[str]]:
    """Files under the remote root (rel → modified_at) and its folders (rel, "" for the root)."""
    root = ctx.remote_root
    files: dict[str, int] = {}
    folders: set[str] = set()
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            objects = list(ctx.client.workspace.list(folder))
        except NotFound:
            continue
        folders.add(folder[len(root) :].lstrip("/"))
        for obj in objects:
            rel = obj.path[len(root) :].lstrip("/")
            if obj.object_type == ObjectType.DIRECTORY:
                pending.append(obj.path)
            else:
                files[rel] = obj.modified_at or 0
    return files, folders


def _recorded(ctx, remote_files: dict[str, int]) -> dict[str, dict]:
    """What deploy last uploaded: local state, or (fresh clone) the remote manifest."""
    recorded = ctx.source_state.get("files")
    if recorded is not None:
        return recorded
    if MANIFEST not in remote_files:
        return {}
    exported = ctx.client.workspace.export(f"{ctx.remote_root}/{MANIFEST}")
    manifest = json.loads(base64.b64decode(exported.content or ""))
    # Trust the manifest's hashes and adopt today's modified_at as the baseline.
    return {rel: {"sha256": digest, "modified_at": None} for rel, digest in manifest.items()}


def plan_sync(ctx, staged: dict[str, Path]) -> tuple[SyncPlan, dict[str, dict], dict[str, int]]:
    remote_files, remote_folders = remote_listing(ctx)
    recorded = _recorded(ctx, remote_files)
    plan = SyncPlan()
    for rel, path in sorted(staged.items()):
        digest = sha256(path)
        known = recorded.get(rel)
        if rel not in remote_files:
            plan.uploads[rel] = "restore" if known else "new"
        elif not known or known["sha256"] != digest:
            plan.uploads[rel] = "changed"
        elif known.get("modified_at") not in (None, remote_files[rel]):
            plan.uploads[rel] = "edited remotely"
        else:
            plan.unchanged.append(rel)
    plan.deletes = sorted(r for r in recorded if r not in staged and r in remote_files)
    if plan.uploads or plan.deletes:
        # Folders to create first: each upload's parent, and the root for the manifest.
        needed = {"", *(Path(rel).parent.as_posix() for rel in plan.uploads)} - {"."}
        plan.missing_dirs = sorted(d for d in needed if d not in remote_folders)
    return plan, recorded, remote_files


def _upload(ctx, rel: str, content: bytes) -> None:
    ctx.client.workspace.import_(
        f"{ctx.remote_root}/{rel}",
        content=base64.b64encode(content).decode(),
        format=ImportFormat.AUTO,
        overwrite=True,
    )


def sync_source(ctx, staged: dict[str, Path] | None = None) -> SyncPlan:
    staged = staged if staged is not None else stage.staged_files(ctx.name, ctx.root)
    plan, recorded, remote_files = plan_sync(ctx, staged)
    files = ctx.source_state.setdefault("files", {})
    if not recorded.keys() <= files.keys():  # fresh clone: adopt the manifest as local state
        files.update(recorded)
    if plan.uploads or plan.deletes:
        for folder in plan.missing_dirs:
            ctx.client.workspace.mkdirs(f"{ctx.remote_root}/{folder}".rstrip("/"))
        for rel, reason in plan.uploads.items():
            _upload(ctx, rel, staged[rel].read_bytes())
            files[rel] = {"sha256": sha256(staged[rel]), "modified_at": None}
            ctx.state.save()  # after each upload: an interrupted sync resumes where it stopped
            print(f"  upload {rel} ({reason})")
        for rel in plan.deletes:
            ctx.client.workspace.delete(f"{ctx.remote_root}/{rel}")
            files.pop(rel, None)
            ctx.state.save()
            print(f"  delete {rel} (no longer staged)")
        manifest = {rel: files[rel]["sha256"] for rel in sorted(files)}
        _upload(ctx, MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
        remote_files, _ = remote_listing(ctx)
    for rel, entry in files.items():
        if entry.get("modified_at") is None and rel in remote_files:
            entry["modified_at"] = remote_files[rel]
    ctx.state.save()
    print(
        f"sync {ctx.name} → {ctx.remote_root}: {len(plan.uploads)} uploaded, "
        f"{len(plan.deletes)} deleted, {len(plan.unchanged)} unchanged"
    )
    return plan
