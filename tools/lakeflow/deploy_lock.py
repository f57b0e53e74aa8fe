"""The deploy lock: one file in the workspace beside the manifest, `<root>/<source>/.lakeflow_deploy.lock`.

Why in the workspace and not on disk: two laptops, or a laptop and CI, share only the workspace.
Taking the lock is an import with overwrite=false, which the workspace refuses when the file
exists, so exactly one deployer wins. The file names its holder (owner, host, pid, time) and
carries a random token; release deletes it only while the token is still ours, so a lock taken
over with `force` is never removed by the deployer it was taken from.

A deployer that finds the lock held polls for a bounded time, then fails naming the holder. A lock
left by a crashed deployer stays until `--force-lock` (as with bundles): guessing staleness from a
clock would let two deploys run at once. The one exception is provable: a holder on this machine
whose process is gone (a deploy killed mid-way) is taken over at once.

Callers take the lock only when a deploy has something to write, so a no-op deploy stays free of
writes (the lock itself is two writes: create and delete).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound, ResourceAlreadyExists
from databricks.sdk.service.workspace import ImportFormat

from tools.lakeflow.errors import LakeflowError

LOCK_FILE = ".lakeflow_deploy.lock"
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.5


class DeployLocked(LakeflowError):
    """Someone else holds the deploy lock (after waiting the allowed time)."""


def lock_path(folder: str) -> str:
    return f"{folder.rstrip('/')}/{LOCK_FILE}"


def describe(holder: dict[str, Any]) -> str:
    return (
        f"{holder.get('owner', '?')} on {holder.get('host', '?')} "
        f"(pid {holder.get('pid', '?')}) since {holder.get('acquired_at', '?')}"
    )


def read_holder(client: WorkspaceClient, folder: str) -> dict[str, Any] | None:
    """The lock's content, or None when nobody holds it."""
    try:
        exported = client.workspace.export(lock_path(folder))
    except NotFound:
        return None
    try:
        holder: dict[str, Any] = json.loads(base64.b64decode(exported.content or ""))
        return holder
    except ValueError:
        return {"owner": "unreadable lock file"}


def abandoned(holder: dict[str, Any]) -> bool:
    """Held by a process of this machine that no longer runs (a deploy killed mid-way): safe to
    take over. Deploys on one machine also share the local state lock, so no live process can
    be taking it over at the same moment."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def _write(client: WorkspaceClient, folder: str, holder: dict[str, Any], overwrite: bool) -> None:
    def put() -> None:
        client.workspace.import_(
            lock_path(folder),
            content=base64.b64encode(json.dumps(holder, sort_keys=True).encode()).decode(),
            format=ImportFormat.AUTO,
            overwrite=overwrite,
        )

    try:
        put()
    except NotFound:  # the folder is not there yet (first deploy): one mkdirs, only then
        client.workspace.mkdirs(folder)
        put()


def acquire(
    client: WorkspaceClient,
    folder: str,
    owner: str,
    *,
    wait_seconds: float = WAIT_SECONDS,
    force: bool = False,
    poll_seconds: float = POLL_SECONDS,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Take the lock on `folder` (created if missing); returns what was written, token included.
    Two writes per deploy that writes anything: this import and release's delete."""
    holder = {
        "owner": owner,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "acquired_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "token": secrets.token_hex(16),
    }
    if force:
        previous = read_holder(client, folder)
        _write(client, folder, holder, overwrite=True)
        if previous:
            print(f"deploy lock: taken over from {describe(previous)}")
        return holder
    deadline = clock() + wait_seconds
    announced = False
    while True:
        try:
            _write(client, folder, holder, overwrite=False)
            return holder
        except ResourceAlreadyExists:
            pass
        current = read_holder(client, folder)
        if current is None:
            continue  # released between our write and our read: try again at once
        if abandoned(current):
            _write(client, folder, holder, overwrite=True)
            print(f"deploy lock: taken over from {describe(current)}, a process that is gone")
            return holder
        if clock() >= deadline:
            raise DeployLocked(
                f"deploy locked by {describe(current)}; waited {wait_seconds:g}s. "
                "Try again later, or take it over with --force-lock",
                file=lock_path(folder),
            )
        if not announced:
            print(f"deploy lock: held by {describe(current)}; waiting up to {wait_seconds:g}s")
            announced = True
        sleep(poll_seconds)


def release(client: WorkspaceClient, folder: str, holder: dict[str, Any]) -> bool:
    """Delete the lock if it is still ours; returns whether it was."""
    current = read_holder(client, folder)
    if not current or current.get("token") != holder["token"]:
        print("deploy lock: no longer ours (taken over); left in place")
        return False
    try:
        client.workspace.delete(lock_path(folder))
    except NotFound:
        return False
    return True


@contextmanager
def deploy_lock(
    client: WorkspaceClient, folder: str, owner: str, **options: Any
) -> Iterator[dict[str, Any]]:
    """`with deploy_lock(client, remote_root, user_name): ...` holds the lock for the block."""
    holder = acquire(client, folder, owner, **options)
    _held.add(folder)
    try:
        yield holder
    finally:
        _held.discard(folder)
        release(client, folder, holder)


_held: set[str] = set()  # folders whose lock this process holds now


def holding(folder: str) -> bool:
    """Whether this process holds `folder`'s lock (a plan under it need not read the holder)."""
    return folder in _held
