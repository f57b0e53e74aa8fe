"""The deploy core: desired state → read live state → diff → apply, for every resource kind.

Every deploy path (the files path of `doit deploy:<s>`, the notebook path, later the managed
mode) goes through here, with one `Session` per process per target: one WorkspaceClient, one
state store (`tools.lakeflow.state`) and its one lock.

A *resource kind* is a `Resource(kind, plan, apply)` of two plain functions over a context
(anything with a `.session`, e.g. `context.DeployContext`):

- `plan(ctx) -> list[Change]` reads live state (SDK reads only, never a write) and diffs it
  against the desired state the stage module computes from the specs. One `Change` per object,
  `unchanged` ones included. `doit plan:<s>` prints exactly this.
- `apply(ctx, changes)` carries out the changes (all of them are passed, so it can also record
  the unchanged ones) and saves the state store after each remote write, so an interrupted
  deploy converges on the next run. It must write nothing remotely for an `unchanged` change:
  that is what makes a no-op deploy a zero-write deploy.

`deploy(ctx, resource)` runs plan then apply under the state lock, after taking in what other
processes recorded. To add a resource kind: write its `plan` and `apply` in the stage module that
owns the desired state (diff with `diff_files` / `overlay_change`, read and write with the helpers
below), make a `Resource` of them, and call `deploy` (and list it in the path's `plan`).

The helpers below are the only code that reads or writes the workspace for deploy: listing a
folder (once, recursively), files, volumes, pipelines, jobs and deletes. Imports go one way:
tasks (dodo.py) → tools.lakeflow.deploy → stage modules → core → state, targets → databricks-sdk.
"""

from __future__ import annotations

import base64
import copy
import io
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import NotFound
from databricks.sdk.errors.base import DatabricksError
from databricks.sdk.errors.platform import InvalidParameterValue
from databricks.sdk.service.catalog import VolumeType
from databricks.sdk.service.workspace import ImportFormat, Language, ObjectInfo, ObjectType

from tools.lakeflow import project
from tools.lakeflow.state import DeployState
from tools.lakeflow.targets import Target, selected_target, workspace_client

ACTIONS = ("create", "update", "delete", "unchanged")
Json = dict[str, Any]  # a REST body as the SDK's api_client.do takes and returns it
T = TypeVar("T")
PIPELINES_API = "/api/2.0/pipelines"
JOBS_API = "/api/2.2/jobs"


# -- markers ------------------------------------------------------------------------------------
def marker(source: str) -> str:
    """The comment deploy writes on the connection and schema it creates: how a fresh clone and
    destroy tell what deploy made from what someone else made under the same name."""
    return f"Lakeflow connector {source}"


def has_marker(comment: str | None, source: str) -> bool:
    # Connections created before the marker was shared carry the older wording.
    return comment in (marker(source), f"Lakeflow community connector {source}")


# -- changes ------------------------------------------------------------------------------------
@dataclass
class Change:
    """One object's planned action. `desired`/`live` carry what apply needs (never a secret)."""

    kind: str  # file, connection, schema, pipeline, notebook, volume file, job...
    name: str
    action: str  # one of ACTIONS
    reason: str = ""  # why: new, changed, restore, edited remotely...
    desired: Any = field(default=None, repr=False)
    live: Any = field(default=None, repr=False)

    @property
    def writes(self) -> bool:
        return self.action != "unchanged"

    def line(self) -> str:
        why = f" ({self.reason})" if self.reason else ""
        return f"  {self.action:<9} {self.kind} {self.name}{why}"


def count(changes: Iterable[Change]) -> dict[str, int]:
    changes = list(changes)
    return {action: sum(1 for c in changes if c.action == action) for action in ACTIONS}


def summary(changes: Iterable[Change]) -> str:
    counts = count(changes)
    return (
        f"Plan: {counts['create']} to add, {counts['update']} to change, "
        f"{counts['delete']} to delete, {counts['unchanged']} unchanged"
    )


# -- session ------------------------------------------------------------------------------------
class Session:
    """One per process per target: the workspace client, the state store and its lock."""

    def __init__(
        self, target: Target, root: Path = project.REPO_ROOT, client: WorkspaceClient | None = None
    ):
        self.target = target
        self.root = root
        self.state = DeployState(target.name, root)
        if client is not None:
            self.__dict__["client"] = client  # a caller's own client (the workspace notebook)

    @cached_property
    def client(self) -> WorkspaceClient:
        return workspace_client(self.target, self.root)

    # A deploy's read-only checks are independent round trips: `prefetch` starts one in a thread,
    # `take` hands its result to the step that needs it, once (a later take reads afresh, so a
    # step never sees a read older than its own writes). Against a real workspace each round trip
    # is ~100 ms, and issued one after another they were most of a no-op deploy.
    @cached_property
    def _read_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=8, thread_name_prefix="lakeflow-read")

    def prefetch(self, key: Hashable, read: Callable[[], Any]) -> None:
        self.__dict__.setdefault("_prefetched", {})
        if key not in self.__dict__["_prefetched"]:
            self.__dict__["_prefetched"][key] = self._read_pool.submit(read)

    def take(self, key: Hashable, read: Callable[[], T]) -> T:
        future: Future[T] | None = self.__dict__.get("_prefetched", {}).pop(key, None)
        return future.result() if future is not None else read()

    def read_once(self, key: Hashable, read: Callable[[], T], prefetch: bool) -> T | None:
        """`prefetch` (returns None) or `take`: one function serves both the early start and the
        step that uses the result, so both name the same key and the same read."""
        if prefetch:
            self.prefetch(key, read)
            return None
        return self.take(key, read)

    @cached_property
    def user_name(self) -> str:
        cached = self.state.data.get("user_name")
        if not cached:
            cached = self.client.current_user.me().user_name or ""
            self.state.data["user_name"] = cached
            self.state.save()
        return str(cached)

    @property
    def user(self) -> str:
        """The user name's local part, dots as underscores: the guide's naming."""
        return self.user_name.split("@")[0].replace(".", "_")

    def fill(self, pattern: str, source: str) -> str:
        """A target pattern (`{user}`, `{user_name}`, `{source}`) filled in."""
        return pattern.format(user=self.user, user_name=self.user_name, source=source)

    def workspace_folder(self, source: str, folder: str | None = None) -> str:
        """`<target workspace_root>/<folder>` (folder defaults to the source's name)."""
        base = self.fill(self.target.workspace_root, source).rstrip("/")
        return f"{base}/{folder or source}"


def exists(read: Callable[[], object]) -> Callable[[], bool]:
    """A read turned into an existence check: NotFound means False."""

    def check() -> bool:
        try:
            read()
        except NotFound:
            return False
        return True

    return check


_sessions: dict[tuple[Path, str], Session] = {}


def open_session(root: Path = project.REPO_ROOT) -> Session:
    """The session of the selected target (LAKEFLOW_TARGET or the default), one per process."""
    target = selected_target(root)
    key = (root, target.name)
    if key not in _sessions:
        _sessions[key] = Session(target, root)
    return _sessions[key]


# -- the driver ---------------------------------------------------------------------------------
class HasSession(Protocol):
    @property
    def session(self) -> Session: ...


C = TypeVar("C", bound=HasSession)


@dataclass(frozen=True)
class Resource(Generic[C]):
    kind: str
    plan: Callable[[C], list[Change]]
    apply: Callable[[C, list[Change]], None]


def plan(ctx: C, resources: Iterable[Resource[C]]) -> list[Change]:
    """Every resource's changes, read-only (no lock: a plan writes nothing, not even state)."""
    return [change for resource in resources for change in resource.plan(ctx)]


def deploy(ctx: C, resource: Resource[C]) -> list[Change]:
    """Plan and apply one resource kind under the state lock; returns its changes."""
    state = ctx.session.state
    with state.lock:
        state.reload()
        changes = resource.plan(ctx)
        resource.apply(ctx, changes)
        state.save()
    return changes


# -- diffs (pure) -------------------------------------------------------------------------------
def diff_files(
    kind: str,
    desired: dict[str, str],
    recorded: dict[str, dict[str, Any]],
    live: dict[str, int],
) -> list[Change]:
    """Files by content hash. desired: rel → sha256; recorded: rel → {sha256, modified_at} (what
    deploy last wrote, modified_at None when not yet seen); live: rel → modified_at.

    Uploads what is new, changed, deleted out of band (restore) or edited out of band; deletes
    only what deploy recorded, is no longer desired and is still there. Change.desired is the
    sha256, Change.live the live modified_at.
    """
    changes = []
    for rel, digest in sorted(desired.items()):
        known = recorded.get(rel)
        if rel not in live:
            action, reason = ("update", "restore") if known else ("create", "new")
        elif not known or known.get("sha256") != digest:
            action, reason = "update", "changed"
        elif known.get("modified_at") not in (None, live[rel]):
            action, reason = "update", "edited remotely"
        else:
            action, reason = "unchanged", ""
        changes.append(Change(kind, rel, action, reason, desired=digest, live=live.get(rel)))
    for rel in sorted(recorded):
        if rel not in desired and rel in live:
            changes.append(Change(kind, rel, "delete", live=live[rel]))
    return changes


KeyPath = tuple[str, ...]  # a key path into nested settings: ("configuration", "team.owner")


def owned_paths(settings: dict[str, Any], prefix: KeyPath = ()) -> list[KeyPath]:
    """Every key path deploy sets: nested mappings are walked, any other value is one leaf.

    Recorded after a write, so the next deploy knows which keys are its own to remove.
    """
    paths: list[KeyPath] = []
    for key, value in settings.items():
        if isinstance(value, dict):  # an empty mapping owns no key in it
            paths += owned_paths(value, (*prefix, key))
        else:
            paths.append((*prefix, key))
    return paths


def merge_owned(
    live: dict[str, Any], desired: dict[str, Any], previously_owned: Iterable[KeyPath] = ()
) -> dict[str, Any]:
    """The live settings with deploy's laid over them key by key.

    Nested mappings (a pipeline's `configuration`, `tags`) merge per key, so a key someone added
    out of band survives; any other value deploy sets replaces the live one. A key deploy set
    before (`previously_owned`) and no longer sets is removed; every other key is left alone.
    """
    merged = copy.deepcopy(live)
    for key, value in desired.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_owned(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    wanted = set(owned_paths(desired))
    for path in previously_owned:
        parent = _value_at(merged, tuple(path)[:-1])
        if tuple(path) not in wanted and isinstance(parent, dict):
            parent.pop(path[-1], None)
    return merged


_ABSENT = object()


def _value_at(settings: Any, path: KeyPath) -> Any:
    for key in path:
        if not isinstance(settings, dict) or key not in settings:
            return _ABSENT
        settings = settings[key]
    return settings


def drifted(live: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    """The key paths deploy sets whose live value differs (dotted, for plan lines)."""
    return [
        ".".join(path)
        for path in owned_paths(desired)
        if _value_at(live, path) != _value_at(desired, path)
    ]


def overlay_change(
    live: Json | None, desired: Json, previously_owned: Iterable[KeyPath] = ()
) -> tuple[str, Json]:
    """create, update or unchanged, and the settings to write: `merge_owned` of the live
    settings and deploy's, so settings deploy does not manage stay as they are."""
    if live is None:
        return "create", desired
    merged = merge_owned(live, desired, previously_owned)
    return ("unchanged" if merged == live else "update"), merged


# -- catalog: schemas, volumes, connections ------------------------------------------------------
CONNECTIONS_API = "/api/2.1/unity-catalog/connections"


def schema_exists(client: WorkspaceClient, full_name: str) -> bool:
    """One read of `catalog.schema`."""
    return exists(lambda: client.schemas.get(full_name))()


def read_schema(client: WorkspaceClient, full_name: str) -> Json | None:
    """`catalog.schema` as the API returns it (its comment holds deploy's marker), or None."""
    try:
        return client.schemas.get(full_name).as_dict()
    except NotFound:
        return None


def create_schema(client: WorkspaceClient, full_name: str, comment: str | None = None) -> None:
    catalog, name = full_name.split(".", 1)
    client.schemas.create(name=name, catalog_name=catalog, comment=comment)


def delete_schema(client: WorkspaceClient, full_name: str) -> bool:
    try:
        client.schemas.delete(full_name)
    except NotFound:
        return False
    return True


def volume_exists(client: WorkspaceClient, full_name: str) -> bool:
    """One read of `catalog.schema.volume`."""
    return exists(lambda: client.volumes.read(full_name))()


def create_volume(client: WorkspaceClient, full_name: str) -> None:
    catalog, schema, name = full_name.split(".", 2)
    client.volumes.create(catalog, schema, name, VolumeType.MANAGED)


def read_connection(client: WorkspaceClient, name: str) -> Json | None:
    try:
        found: Json = client.api_client.do("GET", f"{CONNECTIONS_API}/{name}")
    except NotFound:
        return None
    return found


def write_connection(client: WorkspaceClient, action: str, name: str, body: Json) -> None:
    """create (body: the whole connection) or update (body: the fields to change)."""
    if action == "create":
        client.api_client.do("POST", CONNECTIONS_API, body={"name": name, **body})
    elif action == "update":
        client.api_client.do("PATCH", f"{CONNECTIONS_API}/{name}", body=body)


def delete_connection(client: WorkspaceClient, name: str) -> bool:
    try:
        client.api_client.do("DELETE", f"{CONNECTIONS_API}/{name}")
    except NotFound:
        return False
    return True


def change_reason(live: Json, desired: Json, applied: Json | None) -> str:
    """Why owned settings differ, for plan lines: `changed: ...` where the config changed since
    deploy last wrote them (`applied`), `drift: ...` where someone changed them out of band."""
    differing = drifted(live, desired)
    if applied is None:  # nothing recorded (a fresh clone): the origin is unknown
        return f"differs: {', '.join(differing)}" if differing else ""
    in_config = set(drifted(applied, desired))
    in_config |= {".".join(p) for p in owned_paths(applied) if p not in owned_paths(desired)}
    drift = [p for p in differing if p not in in_config]
    parts = [f"changed: {', '.join(sorted(in_config))}"] if in_config else []
    return "; ".join(parts + ([f"drift: {', '.join(sorted(drift))}"] if drift else []))


def delete_orphan(change: Change, delete: Callable[[str], object]) -> bool:
    """Delete what deploy made and the config no longer names; a refusal (a schema that still
    holds tables, say) is reported, not raised: the rest of the deploy goes on."""
    try:
        if delete(change.name) is False:  # the deleter's own "was not there"
            return False
    except NotFound:
        return False
    except DatabricksError as error:
        print(f"left {change.kind} {change.name} ({change.reason}): {str(error).splitlines()[0]}")
        return False
    print(f"deleted {change.kind} {change.name} ({change.reason})")
    return True


# -- workspace files ----------------------------------------------------------------------------
def make_folder(client: WorkspaceClient, path: str) -> None:
    """A workspace folder and its parents (nothing happens when it exists)."""
    client.workspace.mkdirs(path)


@dataclass
class Listing:
    files: dict[str, int] = field(default_factory=dict)  # rel → modified_at
    folders: set[str] = field(default_factory=set)  # rel, "" for the root itself


def list_folder(client: WorkspaceClient, root: str, expected: Iterable[str] = ()) -> Listing:
    """Everything under a workspace folder, one GET per folder; empty when it does not exist.

    The root and the `expected` folders (absolute paths, e.g. those staged files live in) are
    requested together in the first round trip; a folder found that was not expected is listed
    in the next round with the rest of its depth. So a tree as expected costs one round trip, not
    one per depth, and no folder is read twice."""

    def objects(folder: str) -> list[ObjectInfo] | None:
        try:
            return list(client.workspace.list(folder))
        except NotFound:
            return None

    listing, level = Listing(), [root]
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="lakeflow-list") as pool:
        early = {
            folder: pool.submit(objects, folder) for folder in dict.fromkeys([root, *expected])
        }
        while level:
            pending = [early.pop(f) if f in early else pool.submit(objects, f) for f in level]
            next_level = []
            for folder, future in zip(level, pending, strict=True):
                contents = future.result()
                if contents is None:
                    continue
                listing.folders.add(folder[len(root) :].lstrip("/"))
                for obj in contents:
                    path = obj.path or ""
                    if obj.object_type == ObjectType.DIRECTORY:
                        next_level.append(path)
                    else:
                        listing.files[path[len(root) :].lstrip("/")] = obj.modified_at or 0
            level = next_level
    return listing


def modified_at(client: WorkspaceClient, path: str) -> int | None:
    """One file's modified_at, from a listing of its folder (one GET); None when it is absent."""
    folder = path.rsplit("/", 1)[0]
    try:
        return next((o.modified_at for o in client.workspace.list(folder) if o.path == path), None)
    except NotFound:
        return None


def missing_folders(root: str, rels: Iterable[str], listing: Listing) -> list[str]:
    """Folders (absolute) to create before writing `rels` under root: the root, each parent."""
    needed = {"", *(Path(rel).parent.as_posix() for rel in rels)} - {"."}
    return [f"{root}/{d}".rstrip("/") for d in sorted(needed) if d not in listing.folders]


def write_file(client: WorkspaceClient, path: str, content: bytes, notebook: bool = False) -> None:
    """A workspace file (or a Python notebook, as source), overwriting what is there."""
    encoded = base64.b64encode(content).decode()
    if notebook:
        client.workspace.import_(
            path,
            content=encoded,
            format=ImportFormat.SOURCE,
            language=Language.PYTHON,
            overwrite=True,
        )
    else:
        client.workspace.import_(path, content=encoded, format=ImportFormat.AUTO, overwrite=True)


def read_file(client: WorkspaceClient, path: str) -> bytes:
    return base64.b64decode(client.workspace.export(path).content or "")


def delete_path(client: WorkspaceClient, path: str) -> bool:
    """Delete a workspace object; False when it was not there."""
    try:
        client.workspace.delete(path)
    except NotFound:
        return False
    return True


# -- volume files -------------------------------------------------------------------------------
def list_volume(client: WorkspaceClient, directory: str) -> set[str]:
    """Every file path under a volume directory (recursively); empty when it does not exist."""
    found: set[str] = set()
    pending = [directory]
    while pending:
        folder = pending.pop()
        try:
            entries = list(client.files.list_directory_contents(folder))
        except NotFound:
            continue
        for entry in entries:
            path = (entry.path or "").rstrip("/")
            if entry.is_directory:
                pending.append(path)
            else:
                found.add(path)
    return found


def write_volume_file(client: WorkspaceClient, path: str, content: bytes) -> None:
    client.files.upload(path, io.BytesIO(content), overwrite=True)


def delete_volume_file(client: WorkspaceClient, path: str) -> bool:
    """Delete a volume file; False when it was not there."""
    try:
        client.files.delete(path)
    except NotFound:
        return False
    return True


# -- pipelines ----------------------------------------------------------------------------------
def read_pipeline(client: WorkspaceClient, pipeline_id: str) -> Json | None:
    try:
        found: Json = client.api_client.do("GET", f"{PIPELINES_API}/{pipeline_id}")
    except NotFound:
        return None
    return found


def find_pipeline(client: WorkspaceClient, pipeline_id: str | None, name: str) -> Json | None:
    """The live pipeline: by the id deploy recorded, else by name (a fresh clone adopts it)."""
    if pipeline_id:
        return read_pipeline(client, pipeline_id)
    for status in client.pipelines.list_pipelines(filter=f"name LIKE '{name}'"):
        if status.pipeline_id:
            return read_pipeline(client, status.pipeline_id)
    return None


def pipeline_change(
    live: Json | None, desired: Json, previously_owned: Iterable[KeyPath] = ()
) -> tuple[str, Json]:
    """`overlay_change` on a pipeline as GET returns it ({"pipeline_id", "spec", ...})."""
    return overlay_change(live["spec"] if live else None, desired, previously_owned)


def write_pipeline(client: WorkspaceClient, action: str, live: Json | None, spec: Json) -> str:
    """Carry out `action` (create/update/unchanged); returns the pipeline id. Never deletes and
    recreates: that would lose the pipeline's history and checkpoints."""
    if action == "create":
        created: Json = client.api_client.do("POST", PIPELINES_API, body=spec)
        return str(created["pipeline_id"])
    assert live is not None, f"{action} needs the live pipeline"
    pipeline_id = str(live["pipeline_id"])
    if action == "update":
        body = {**spec, "pipeline_id": pipeline_id}
        client.api_client.do("PUT", f"{PIPELINES_API}/{pipeline_id}", body=body)
    return pipeline_id


def delete_pipeline(client: WorkspaceClient, pipeline_id: str) -> bool:
    try:
        client.pipelines.delete(pipeline_id)
    except NotFound:
        return False
    return True


# -- jobs ---------------------------------------------------------------------------------------
def read_job(client: WorkspaceClient, job_id: int | str | None) -> Json | None:
    """The live job ({"job_id", "settings", ...}), None when it is gone."""
    if not job_id:
        return None
    try:
        found: Json = client.api_client.do("GET", f"{JOBS_API}/get", query={"job_id": job_id})
    except (NotFound, InvalidParameterValue):
        return None
    return found


def find_job(client: WorkspaceClient, job_id: int | str | None, name: str) -> Json | None:
    """The live job: by the id deploy recorded, else by name (a fresh clone adopts it)."""
    if job_id:
        return read_job(client, job_id)
    for job in client.jobs.list(name=name):
        return read_job(client, job.job_id)
    return None


def job_change(
    live: Json | None, desired: Json, previously_owned: Iterable[KeyPath] = ()
) -> tuple[str, Json]:
    """`overlay_change` on a job's settings (jobs/reset replaces them all, so this merge is what
    keeps out-of-band settings such as notifications or tags)."""
    return overlay_change(live["settings"] if live else None, desired, previously_owned)


def write_job(client: WorkspaceClient, action: str, live: Json | None, settings: Json) -> int:
    """Create the job or reset its settings; returns the job id."""
    if action == "create":
        created: Json = client.api_client.do("POST", f"{JOBS_API}/create", body=settings)
        return int(created["job_id"])
    assert live is not None, f"{action} needs the live job"
    job_id = int(live["job_id"])
    if action == "update":
        body = {"job_id": job_id, "new_settings": settings}
        client.api_client.do("POST", f"{JOBS_API}/reset", body=body)
    return job_id


def delete_job(client: WorkspaceClient, job_id: int | str) -> bool:
    """Delete a job; False when it was already gone."""
    try:
        client.api_client.do("POST", f"{JOBS_API}/delete", body={"job_id": job_id})
    except (NotFound, InvalidParameterValue):
        return False
    return True
