"""Sync the stage to the workspace by content hash: upload only what changed.

Why a manifest beside the files (`<root>/<source>/.lakeflow_manifest.json`, sha256 per file) rather
than remote hashes: the workspace API returns no content hash, so comparing remote content would
mean exporting every file on every deploy. The manifest (sha256 and modified_at per file) lets a
fresh clone (no local state) learn what is deployed with one export, and upload nothing that is
already identical. It is not trusted blindly: a file whose modified_at differs from its entry is
hashed as it is, and a missing or corrupt manifest is rebuilt from the listing and those hashes.
A manifest whose modified_at is the one deploy saw right after writing it is not exported again:
a no-op deploy reads only listings; a manifest edited or deleted out of band is read and checked.

The plan makes one recursive listing (a GET per folder). It shows files deleted out of band
(restored) and files whose `modified_at` differs from what deploy recorded (edited out of band,
re-uploaded). Deploy deletes only files it created itself and that are no longer staged.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from tools.lakeflow import core, deploy_lock, stage
from tools.lakeflow.context import DeployContext
from tools.lakeflow.core import Change

MANIFEST = ".lakeflow_manifest.json"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_manifest(
    ctx: DeployContext, listing: core.Listing
) -> tuple[dict[str, dict[str, Any]] | None, str]:
    """The live manifest (rel → {sha256, modified_at}) and, when unusable, why."""
    if MANIFEST not in listing.files:
        return None, "missing"
    try:
        manifest = json.loads(core.read_file(ctx.client, f"{ctx.remote_root}/{MANIFEST}"))
        entries = {
            rel: entry if isinstance(entry, dict) else {"sha256": entry, "modified_at": None}
            for rel, entry in manifest.items()
        }
        if all(isinstance(e.get("sha256"), str) for e in entries.values()):
            return entries, ""
    except (ValueError, AttributeError):
        pass
    return None, "corrupt"


def _rebuilt(
    ctx: DeployContext,
    listing: core.Listing,
    manifest: dict[str, dict[str, Any]] | None,
    staged: set[str],
) -> dict[str, dict[str, Any]]:
    """What deploy uploaded, without local state (a fresh clone, a lost `.lakeflow/`): the
    manifest's entry where the file is untouched since (same modified_at), otherwise the hash of
    the file as it is: a broken or stale manifest is neither trusted nor a reason to upload."""
    manifest = manifest or {}
    rebuilt = {}
    for rel, modified_at in sorted(listing.files.items()):
        entry = manifest.get(rel)
        if entry and entry.get("modified_at") == modified_at:
            rebuilt[rel] = {"sha256": entry["sha256"], "modified_at": modified_at}
        elif entry or rel in staged:  # deploy's file, or one it would upload: hash what is there
            content = core.read_file(ctx.client, f"{ctx.remote_root}/{rel}")
            digest = hashlib.sha256(content).hexdigest()
            rebuilt[rel] = {"sha256": digest, "modified_at": modified_at}
    return rebuilt


def manifest_of(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        rel: {"sha256": e["sha256"], "modified_at": e["modified_at"]} for rel, e in files.items()
    }


def staged_for(ctx: DeployContext) -> dict[str, Path]:
    """The staged files deploy uploads; none in managed mode (it deletes what files mode left)."""
    from tools.lakeflow import managed

    return {} if managed.is_managed(ctx) else stage.staged_files(ctx.name, ctx.root)


def live_listing(ctx: DeployContext, prefetch: bool = False) -> core.Listing | None:
    """One listing of the source's workspace folder (started early by a deploy with `prefetch`).
    The folders staged and recorded files live in are listed in the same round trip as the root."""

    read = lambda: core.list_folder(ctx.client, ctx.remote_root, _expected_folders(ctx))  # noqa: E731
    return ctx.session.read_once(("listing", ctx.remote_root), read, prefetch)


def _expected_folders(ctx: DeployContext) -> list[str]:
    """The workspace folders that staged and recorded files live in, ancestors included."""
    rels = [*staged_for(ctx), *ctx.source_state.get("files", {})]
    parts = [rel.split("/")[:-1] for rel in rels]
    folders = {"/".join(p[:depth]) for p in parts for depth in range(1, len(p) + 1)}
    return [f"{ctx.remote_root}/{f}" for f in sorted(folders)]


def plan_files(ctx: DeployContext) -> list[Change]:
    """One change per staged or recorded file, preceded by the folders an upload needs, and
    followed by the manifest when it is missing, corrupt or out of date."""
    staged = staged_for(ctx)
    listing = live_listing(ctx)
    assert listing is not None  # read_once without prefetch returns the read
    recorded = ctx.source_state.get("files")
    written_at = ctx.source_state.get("manifest_modified_at")
    manifest: dict[str, dict[str, Any]] | None
    if recorded is not None and written_at and listing.files.get(MANIFEST) == written_at:
        # Untouched since this deploy wrote it (any edit changes its modified_at): no export.
        manifest, broken = manifest_of(recorded), ""
    else:
        manifest, broken = read_manifest(ctx, listing)
    if recorded is None:
        recorded = _rebuilt(ctx, listing, manifest, set(staged))
    desired = {rel: sha256(path) for rel, path in staged.items()}
    changes = core.diff_files("file", desired, recorded, listing.files)
    writes = any(c.writes for c in changes)
    kept = {c.name: {"sha256": c.desired, "modified_at": c.live} for c in changes if not c.writes}
    if not writes and (staged or manifest is not None) and manifest != manifest_of(kept):
        action = "create" if broken == "missing" else "update"
        changes.append(Change("manifest", MANIFEST, action, broken or "out of date"))
    if deploy_lock.LOCK_FILE in listing.files and not deploy_lock.holding(ctx.remote_root):
        holder = deploy_lock.read_holder(ctx.client, ctx.remote_root)
        if holder and deploy_lock.abandoned(holder):
            # A write, so the deploy takes the lock (over), then releases it: a killed deploy's
            # lock does not linger.
            why = f"held by {deploy_lock.describe(holder)}, a process that is gone"
            changes.append(Change("lock", deploy_lock.LOCK_FILE, "delete", why))
    if writes:
        uploads = [c.name for c in changes if c.action in ("create", "update")]
        folders = core.missing_folders(ctx.remote_root, uploads, listing)  # root holds manifest
        changes = [Change("folder", f, "create") for f in folders] + changes
    return changes


def _upload_together(
    ctx: DeployContext, uploads: list[Change], staged: dict[str, Path], files: dict[str, Any]
) -> None:
    """Upload files concurrently (a one-line edit's two files in one round trip, not two). Each
    is recorded in `files` (the state's) as it lands, so an interrupted sync resumes where it
    stopped; when one fails, the others still finish and are recorded, then the first failure is
    raised."""

    def put(change: Change) -> None:
        path = f"{ctx.remote_root}/{change.name}"
        core.write_file(ctx.client, path, staged[change.name].read_bytes())

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="lakeflow-upload") as pool:
        futures = {pool.submit(put, change): change for change in uploads}
        for done in as_completed(futures):
            if done.exception() is None:
                change = futures[done]
                files[change.name] = {"sha256": change.desired, "modified_at": None}
                ctx.state.save()
    for future, change in futures.items():  # in plan order
        if future.exception() is None:
            print(f"  upload {change.name} ({change.reason})")
    failed = [f.exception() for f in futures if f.exception() is not None]
    if failed:
        raise failed[0]  # type: ignore[misc]


def apply_files(ctx: DeployContext, changes: list[Change]) -> None:
    uploads = [c for c in changes if c.kind == "file" and c.writes and c.action != "delete"]
    staged = stage.staged_files(ctx.name, ctx.root) if uploads else {}
    files = ctx.source_state.setdefault("files", {})
    for gone in set(files) - {c.name for c in changes if c.kind == "file"}:
        files.pop(gone)  # neither staged nor in the workspace any more: nothing to track
    for change in changes:
        if change.kind == "folder":  # listed first, parents before children
            core.make_folder(ctx.client, change.name)
    _upload_together(ctx, uploads, staged, files)
    # Folders are made and files uploaded above; a stale lock is taken over by the deploy's lock.
    for change in changes:
        rel = change.name
        if change.kind == "manifest":
            print(f"  manifest {change.reason}: rebuilt from the listing and file hashes")
        elif change.kind != "file":
            continue
        elif change.action == "delete":
            core.delete_path(ctx.client, f"{ctx.remote_root}/{rel}")
            files.pop(rel, None)
            ctx.state.save()
            print(f"  delete {rel} (no longer staged)")
        elif not change.writes:  # unchanged; without local state this adopts the rebuilt entry
            files[rel] = {"sha256": change.desired, "modified_at": change.live}
    if any(c.writes for c in changes):
        live_files = core.list_folder(ctx.client, ctx.remote_root, _expected_folders(ctx)).files
        for rel, entry in files.items():
            if entry.get("modified_at") is None and rel in live_files:
                entry["modified_at"] = live_files[rel]
        content = json.dumps(manifest_of(files), indent=1, sort_keys=True).encode()
        manifest_path = f"{ctx.remote_root}/{MANIFEST}"
        core.write_file(ctx.client, manifest_path, content)
        ctx.source_state["manifest_modified_at"] = core.modified_at(ctx.client, manifest_path)
        ctx.state.save()
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
