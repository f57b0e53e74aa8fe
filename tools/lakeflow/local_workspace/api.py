"""The Databricks REST endpoints the local workspace serves, with the real request/response shapes.

Each handler takes (state, request) and returns (status, body). Errors are raised as ApiError and
rendered as `{"error_code": ..., "message": ...}` like the real API.
"""

from __future__ import annotations

import ast
import base64
import fnmatch
import re
import time
from dataclasses import dataclass, field
from urllib.parse import unquote

LOCAL_USER = "local.developer@example.com"
# Real Unity Catalog never returns credential options; without the connector spec at hand the
# local workspace recognises them by name.
SENSITIVE_OPTION = re.compile(r"(key|token|secret|password|credential)", re.IGNORECASE)
QUEUED_SECONDS = 0.2
RUNNING_SECONDS = 0.6
NOTEBOOK_HEADER = b"# Databricks notebook source"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", f"{what} does not exist.")


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_PARAMETER_VALUE", message)


def exists(what: str) -> ApiError:
    return ApiError(409, "RESOURCE_ALREADY_EXISTS", f"{what} already exists.")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: dict = field(default_factory=dict)
    raw: bytes = b""
    store: object = None  # the Store, for blobs


def _now_ms() -> int:
    return int(time.time() * 1000)


def _next_id(state) -> int:
    state["counter"] += 1
    return state["counter"]


def _require(body: dict, *names: str) -> None:
    for name in names:
        if body.get(name) in (None, ""):
            raise invalid(f"Missing required field: {name}")


# -- identity ---------------------------------------------------------------------------------
def scim_me(state, req):
    return 200, {
        "id": "1",
        "userName": LOCAL_USER,
        "displayName": "Local Developer",
        "active": True,
    }


# -- workspace --------------------------------------------------------------------------------
def _norm(path: str) -> str:
    if not path or not path.startswith("/"):
        raise invalid(f"Path ({path!r}) must be absolute")
    return "/" + "/".join(p for p in path.split("/") if p)


def _parent(path: str) -> str:
    return path.rsplit("/", 1)[0] or "/"


def _object_info(path: str, obj: dict) -> dict:
    info = {
        "path": path,
        "object_type": obj["object_type"],
        "object_id": obj["object_id"],
        "modified_at": obj["modified_at"],
        "created_at": obj.get("created_at", obj["modified_at"]),
    }
    if obj["object_type"] != "DIRECTORY":
        info["size"] = obj.get("size", 0)
    if obj.get("language"):
        info["language"] = obj["language"]
    return info


def _mkdirs(state, path: str) -> None:
    parts = [p for p in path.split("/") if p]
    current = ""
    for part in parts:
        current += "/" + part
        obj = state["workspace"].get(current)
        if obj is None:
            now = _now_ms()
            state["workspace"][current] = {
                "object_type": "DIRECTORY",
                "object_id": _next_id(state),
                "modified_at": now,
            }
        elif obj["object_type"] != "DIRECTORY":
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"{current} exists and is not a folder")


def workspace_mkdirs(state, req):
    _require(req.body, "path")
    _mkdirs(state, _norm(req.body["path"]))
    return 200, {}


def workspace_import(state, req):
    _require(req.body, "path")
    path = _norm(req.body["path"])
    try:
        content = base64.b64decode(req.body.get("content", ""), validate=True)
    except ValueError:
        raise invalid("content must be base64") from None
    fmt = req.body.get("format", "SOURCE")
    notebook = bool(
        (fmt in ("SOURCE", "JUPYTER") and req.body.get("language"))
        or (fmt == "AUTO" and content.startswith(NOTEBOOK_HEADER))
    )
    if notebook and path.endswith(".py") and fmt == "AUTO":
        path = path[:-3]
    parent = _parent(path)
    if state["workspace"].get(parent, {}).get("object_type") != "DIRECTORY":
        raise not_found(f"The parent folder ({parent})")
    existing = state["workspace"].get(path)
    if existing and not req.body.get("overwrite"):
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
    if existing and existing["object_type"] == "DIRECTORY":
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) is a folder.")
    now = max(_now_ms(), (existing or {}).get("modified_at", 0) + 1)
    state["workspace"][path] = {
        "object_type": "NOTEBOOK" if notebook else "FILE",
        "object_id": (existing or {}).get("object_id") or _next_id(state),
        "modified_at": now,
        "created_at": (existing or {}).get("created_at", now),
        "size": len(content),
        "blob": req.store.put_blob(content),
        "language": (req.body.get("language") or "PYTHON") if notebook else None,
    }
    return 200, {}


def _workspace_get(state, path: str) -> dict:
    obj = state["workspace"].get(_norm(path))
    if obj is None:
        raise not_found(f"Path ({path})")
    return obj


def workspace_get_status(state, req):
    path = _norm(req.query.get("path", ""))
    return 200, _object_info(path, _workspace_get(state, path))


def workspace_export(state, req):
    path = _norm(req.query.get("path", ""))
    obj = _workspace_get(state, path)
    if obj["object_type"] == "DIRECTORY":
        raise invalid(f"Path ({path}) is a folder; export a file or notebook")
    content = req.store.blob(obj["blob"])
    if req.query.get("direct_download") in ("true", "True"):
        return 200, content
    return 200, {
        "content": base64.b64encode(content).decode(),
        "file_type": "py" if obj["object_type"] == "NOTEBOOK" else "",
    }


def _children(state, path: str) -> list[str]:
    prefix = path.rstrip("/") + "/"
    return sorted(
        p for p in state["workspace"] if p.startswith(prefix) and "/" not in p[len(prefix) :]
    )


def workspace_list(state, req):
    path = _norm(req.query.get("path", ""))
    obj = _workspace_get(state, path)
    if obj["object_type"] != "DIRECTORY":
        return 200, {"objects": [_object_info(path, obj)]}
    return 200, {
        "objects": [_object_info(p, state["workspace"][p]) for p in _children(state, path)]
    }


def workspace_delete(state, req):
    _require(req.body, "path")
    path = _norm(req.body["path"])
    obj = _workspace_get(state, path)
    below = [p for p in state["workspace"] if p.startswith(path.rstrip("/") + "/")]
    if obj["object_type"] == "DIRECTORY" and below and not req.body.get("recursive"):
        raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty")
    for p in [path, *below]:
        state["workspace"].pop(p, None)
    return 200, {}


# -- Unity Catalog ----------------------------------------------------------------------------
def _connection_view(conn: dict) -> dict:
    view = dict(conn)
    view["options"] = {k: v for k, v in conn["options"].items() if not SENSITIVE_OPTION.search(k)}
    return view


def connection_create(state, req):
    _require(req.body, "name", "connection_type")
    name = req.body["name"]
    if name in state["connections"]:
        raise exists(f"Connection '{name}'")
    if not isinstance(req.body.get("options", {}), dict):
        raise invalid("options must be a map of strings")
    now = _now_ms()
    state["connections"][name] = {
        "name": name,
        "full_name": name,
        "connection_type": req.body["connection_type"],
        "options": dict(req.body.get("options") or {}),
        "comment": req.body.get("comment", ""),
        "owner": LOCAL_USER,
        "created_at": now,
        "updated_at": now,
        "connection_id": str(_next_id(state)),
    }
    return 200, _connection_view(state["connections"][name])


def _connection(state, name: str) -> dict:
    conn = state["connections"].get(unquote(name))
    if conn is None:
        raise not_found(f"Connection '{unquote(name)}'")
    return conn


def connection_get(state, req, name):
    return 200, _connection_view(_connection(state, name))


def connection_update(state, req, name):
    conn = _connection(state, name)
    if "options" in req.body:
        conn["options"] = dict(req.body["options"])
    if req.body.get("comment") is not None:
        conn["comment"] = req.body["comment"]
    conn["updated_at"] = _now_ms()
    return 200, _connection_view(conn)


def connection_delete(state, req, name):
    _connection(state, name)
    del state["connections"][unquote(name)]
    return 200, {}


def connection_list(state, req):
    return 200, {
        "connections": [_connection_view(c) for _, c in sorted(state["connections"].items())]
    }


def schema_create(state, req):
    _require(req.body, "name", "catalog_name")
    full = f"{req.body['catalog_name']}.{req.body['name']}"
    if full in state["schemas"]:
        raise exists(f"Schema '{full}'")
    state["schemas"][full] = {
        "name": req.body["name"],
        "catalog_name": req.body["catalog_name"],
        "full_name": full,
        "comment": req.body.get("comment", ""),
        "owner": LOCAL_USER,
        "created_at": _now_ms(),
    }
    return 200, state["schemas"][full]


def _schema(state, full: str) -> dict:
    if unquote(full) not in state["schemas"]:
        raise not_found(f"Schema '{unquote(full)}'")
    return state["schemas"][unquote(full)]


def schema_get(state, req, full):
    return 200, _schema(state, full)


def schema_update(state, req, full):
    schema = _schema(state, full)
    if req.body.get("comment") is not None:
        schema["comment"] = req.body["comment"]
    return 200, schema


def schema_delete(state, req, full):
    _schema(state, full)
    del state["schemas"][unquote(full)]
    return 200, {}


def schema_list(state, req):
    catalog = req.query.get("catalog_name")
    return 200, {
        "schemas": [s for _, s in sorted(state["schemas"].items()) if s["catalog_name"] == catalog]
    }


def volume_create(state, req):
    _require(req.body, "name", "catalog_name", "schema_name")
    schema_full = f"{req.body['catalog_name']}.{req.body['schema_name']}"
    if schema_full not in state["schemas"]:
        raise not_found(f"Schema '{schema_full}'")
    full = f"{schema_full}.{req.body['name']}"
    if full in state["volumes"]:
        raise exists(f"Volume '{full}'")
    state["volumes"][full] = {
        "name": req.body["name"],
        "catalog_name": req.body["catalog_name"],
        "schema_name": req.body["schema_name"],
        "full_name": full,
        "volume_type": req.body.get("volume_type", "MANAGED"),
        "storage_location": f"/Volumes/{full.replace('.', '/')}",
        "volume_id": str(_next_id(state)),
        "created_at": _now_ms(),
    }
    return 200, state["volumes"][full]


def volume_get(state, req, full):
    if unquote(full) not in state["volumes"]:
        raise not_found(f"Volume '{unquote(full)}'")
    return 200, state["volumes"][unquote(full)]


def volume_delete(state, req, full):
    volume_get(state, req, full)
    del state["volumes"][unquote(full)]
    return 200, {}


def volume_list(state, req):
    catalog, schema = req.query.get("catalog_name"), req.query.get("schema_name")
    volumes = [
        v
        for _, v in sorted(state["volumes"].items())
        if v["catalog_name"] == catalog and v["schema_name"] == schema
    ]
    return 200, {"volumes": volumes}


# -- files (UC volumes) -----------------------------------------------------------------------
def _volume_of(state, path: str) -> None:
    parts = [p for p in path.split("/") if p]
    if len(parts) < 4 or parts[0] != "Volumes":
        raise invalid(
            f"{path} is not a path inside a volume (/Volumes/<catalog>/<schema>/<volume>)"
        )
    if ".".join(parts[1:4]) not in state["volumes"]:
        raise not_found(f"Volume '{'.'.join(parts[1:4])}'")


def file_put(state, req, path):
    path = "/" + unquote(path).lstrip("/")
    _volume_of(state, path)
    if path in state["files"] and req.query.get("overwrite") == "false":
        raise exists(f"File '{path}'")
    state["files"][path] = {
        "blob": req.store.put_blob(req.raw),
        "size": len(req.raw),
        "modified_at": _now_ms(),
    }
    return 204, None


def _file(state, path: str) -> dict:
    path = "/" + unquote(path).lstrip("/")
    if path not in state["files"]:
        raise not_found(f"File '{path}'")
    return state["files"][path]


def file_get(state, req, path):
    return 200, req.store.blob(_file(state, path)["blob"])


def file_head(state, req, path):
    _file(state, path)
    return 200, None


def file_delete(state, req, path):
    _file(state, path)
    del state["files"]["/" + unquote(path).lstrip("/")]
    return 204, None


def directory_put(state, req, path):
    _volume_of(state, "/" + unquote(path).lstrip("/"))
    return 204, None


def directory_list(state, req, path):
    prefix = "/" + unquote(path).strip("/") + "/"
    entries = {}
    for file_path, meta in state["files"].items():
        if file_path.startswith(prefix):
            rest = file_path[len(prefix) :]
            name = rest.split("/")[0]
            is_dir = "/" in rest
            entries[name] = {
                "path": prefix + name + ("/" if is_dir else ""),
                "name": name,
                "is_directory": is_dir,
                **(
                    {}
                    if is_dir
                    else {"file_size": meta["size"], "last_modified": meta["modified_at"]}
                ),
            }
    return 200, {"contents": [entries[n] for n in sorted(entries)]}


# -- pipelines --------------------------------------------------------------------------------
PIPELINE_SPEC_KEYS = (
    "name", "catalog", "schema", "target", "serverless", "development", "continuous", "channel",
    "photon", "edition", "configuration", "libraries", "clusters", "root_path", "environment",
    "notifications", "tags", "budget_policy_id", "allow_duplicate_names",
)  # fmt: skip


def _pipeline_spec(body: dict, pipeline_id: str) -> dict:
    spec = {k: body[k] for k in PIPELINE_SPEC_KEYS if k in body and body[k] is not None}
    spec.pop("allow_duplicate_names", None)
    spec["id"] = pipeline_id
    return spec


def pipeline_create(state, req):
    _require(req.body, "name")
    if not req.body.get("allow_duplicate_names"):
        for pipeline in state["pipelines"].values():
            if pipeline["spec"]["name"] == req.body["name"]:
                raise exists(f"Pipeline '{req.body['name']}'")
    pipeline_id = f"local-pipeline-{_next_id(state)}"
    state["pipelines"][pipeline_id] = {
        "spec": _pipeline_spec(req.body, pipeline_id),
        "creator_user_name": LOCAL_USER,
        "created_at": _now_ms(),
        "updates": [],
    }
    state["events"][pipeline_id] = []
    return 200, {"pipeline_id": pipeline_id}


def _pipeline(state, pipeline_id: str) -> dict:
    if pipeline_id not in state["pipelines"]:
        raise not_found(f"Pipeline '{pipeline_id}'")
    return state["pipelines"][pipeline_id]


def _event(state, pipeline_id, update_id, level, message, event_type="update_progress") -> None:
    state["events"].setdefault(pipeline_id, []).append(
        {
            "id": str(_next_id(state)),
            "event_type": event_type,
            "level": level,
            "message": message,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "origin": {"pipeline_id": pipeline_id, "update_id": update_id},
        }
    )


def _validate_libraries(state, store, spec: dict) -> list[str]:
    """What a real run would trip over first: missing or unparsable code, no register function."""
    problems = []
    source_name = (spec.get("configuration") or {}).get("source_name")
    for library in spec.get("libraries") or []:
        kind = "file" if "file" in library else "notebook" if "notebook" in library else None
        path = (library.get(kind) or {}).get("path") if kind else None
        obj = state["workspace"].get(path or "")
        if not path or obj is None or obj["object_type"] == "DIRECTORY":
            problems.append(f"library {kind} {path!r} does not exist in the workspace")
            continue
        code = store.blob(obj["blob"])
        try:
            ast.parse(code, filename=path)
        except SyntaxError as error:
            problems.append(f"{path}:{error.lineno}: {error.msg}")
            continue
        if kind == "file" and source_name:
            merged = (
                f"{_parent(path)}/sources/{source_name}/_generated_{source_name}_python_source.py"
            )
            merged_obj = state["workspace"].get(merged)
            if merged_obj is None:
                problems.append(f"{merged} does not exist; deploy the merged source")
                continue
            try:
                tree = ast.parse(store.blob(merged_obj["blob"]), filename=merged)
            except SyntaxError as error:
                problems.append(f"{merged}:{error.lineno}: {error.msg}")
                continue
            if not any(
                isinstance(n, ast.FunctionDef) and n.name == "register_lakeflow_source"
                for n in tree.body
            ):
                problems.append(f"{merged} does not define register_lakeflow_source(spark)")
    if not spec.get("libraries"):
        problems.append("the pipeline has no libraries")
    return problems


def _advance(state, store, pipeline_id: str, update: dict) -> dict:
    """Move an update along QUEUED → RUNNING → COMPLETED/FAILED by elapsed time."""
    if update["state"] in ("COMPLETED", "FAILED", "CANCELED"):
        return update
    elapsed = time.time() - update["creation_time"] / 1000
    if elapsed >= QUEUED_SECONDS and update["state"] == "QUEUED":
        update["state"] = "RUNNING"
        _event(state, pipeline_id, update["update_id"], "INFO", "Update is RUNNING.")
    if elapsed >= QUEUED_SECONDS + RUNNING_SECONDS and update["state"] == "RUNNING":
        problems = _validate_libraries(state, store, state["pipelines"][pipeline_id]["spec"])
        for problem in problems:
            _event(state, pipeline_id, update["update_id"], "ERROR", problem, "flow_progress")
        update["state"] = "FAILED" if problems else "COMPLETED"
        _event(state, pipeline_id, update["update_id"], "INFO", f"Update is {update['state']}.")
    return update


def _pipeline_view(state, store, pipeline_id: str) -> dict:
    pipeline = _pipeline(state, pipeline_id)
    updates = [
        _advance(state, store, pipeline_id, state["updates"][u]) for u in pipeline["updates"]
    ]
    running = any(u["state"] in ("QUEUED", "RUNNING") for u in updates)
    return {
        "pipeline_id": pipeline_id,
        "name": pipeline["spec"]["name"],
        "spec": pipeline["spec"],
        "state": "RUNNING" if running else "IDLE",
        "creator_user_name": pipeline["creator_user_name"],
        "run_as_user_name": pipeline["creator_user_name"],
        "latest_updates": [
            {
                "update_id": u["update_id"],
                "state": u["state"],
                "creation_time": str(u["creation_time"]),
            }
            for u in reversed(updates[-5:])
        ],
    }


def pipeline_get(state, req, pipeline_id):
    return 200, _pipeline_view(state, req.store, pipeline_id)


def pipeline_edit(state, req, pipeline_id):
    pipeline = _pipeline(state, pipeline_id)
    _require(req.body, "name")
    pipeline["spec"] = _pipeline_spec(req.body, pipeline_id)
    return 200, {}


def pipeline_delete(state, req, pipeline_id):
    _pipeline(state, pipeline_id)
    del state["pipelines"][pipeline_id]
    return 200, {}


def pipeline_list(state, req):
    pattern = None
    match = re.match(r"^\s*name\s+LIKE\s+'(.*)'\s*$", req.query.get("filter", ""), re.IGNORECASE)
    if req.query.get("filter") and not match:
        raise invalid(f"Unsupported filter: {req.query['filter']}")
    if match:
        pattern = match.group(1).replace("%", "*").replace("_", "?")
    statuses = []
    for pipeline_id in sorted(state["pipelines"]):
        view = _pipeline_view(state, req.store, pipeline_id)
        if pattern is None or fnmatch.fnmatchcase(view["name"], pattern):
            statuses.append(
                {k: view[k] for k in ("pipeline_id", "name", "state", "latest_updates")}
            )
    return 200, {"statuses": statuses}


def pipeline_start_update(state, req, pipeline_id):
    view = _pipeline_view(state, req.store, pipeline_id)
    if view["state"] == "RUNNING":
        raise ApiError(409, "RESOURCE_CONFLICT", f"Pipeline '{pipeline_id}' has an active update.")
    chosen = {
        k: req.body[k] for k in ("refresh_selection", "full_refresh_selection") if k in req.body
    }
    if chosen and req.body.get("full_refresh"):
        raise invalid("full_refresh cannot be combined with a refresh selection")
    update_id = f"local-update-{_next_id(state)}"
    state["updates"][update_id] = {
        "update_id": update_id,
        "pipeline_id": pipeline_id,
        "state": "QUEUED",
        "full_refresh": bool(req.body.get("full_refresh")),
        "creation_time": _now_ms(),
        "cause": req.body.get("cause", "API_CALL"),
        **chosen,  # recorded, and returned by get_update like the real API
    }
    state["pipelines"][pipeline_id]["updates"].append(update_id)
    refresh = " (full refresh)" if req.body.get("full_refresh") else ""
    _event(state, pipeline_id, update_id, "INFO", f"Update {update_id} is QUEUED{refresh}.")
    return 200, {"update_id": update_id}


def pipeline_get_update(state, req, pipeline_id, update_id):
    _pipeline(state, pipeline_id)
    if update_id not in state["updates"]:
        raise not_found(f"Update '{update_id}'")
    update = _advance(state, req.store, pipeline_id, state["updates"][update_id])
    return 200, {"update": {**update, "creation_time": str(update["creation_time"])}}


def pipeline_events(state, req, pipeline_id):
    _pipeline_view(state, req.store, pipeline_id)  # advances running updates
    events = list(reversed(state["events"].get(pipeline_id, [])))
    return 200, {"events": events[: int(req.query.get("max_results", 100))]}


# -- jobs -------------------------------------------------------------------------------------
def job_create(state, req):
    job_id = _next_id(state)
    state["jobs"][str(job_id)] = {
        "job_id": job_id,
        "settings": req.body,
        "created_time": _now_ms(),
        "creator_user_name": LOCAL_USER,
    }
    return 200, {"job_id": job_id}


def _job(state, job_id) -> dict:
    job = state["jobs"].get(str(job_id))
    if job is None:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", f"Job {job_id} does not exist.")
    return job


def job_get(state, req):
    return 200, _job(state, req.query.get("job_id"))


def job_reset(state, req):
    _require(req.body, "job_id", "new_settings")
    _job(state, req.body["job_id"])["settings"] = req.body["new_settings"]
    return 200, {}


def job_delete(state, req):
    _require(req.body, "job_id")
    _job(state, req.body["job_id"])
    del state["jobs"][str(req.body["job_id"])]
    return 200, {}


def job_list(state, req):
    name = req.query.get("name")
    jobs = [
        {k: j[k] for k in ("job_id", "settings", "created_time", "creator_user_name")}
        for _, j in sorted(state["jobs"].items(), key=lambda kv: int(kv[0]))
        if name is None or j["settings"].get("name") == name
    ]
    return 200, {"jobs": jobs, "has_more": False}


# -- secrets ----------------------------------------------------------------------------------
def secret_scope_create(state, req):
    _require(req.body, "scope")
    if req.body["scope"] in state["secrets"]:
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Scope {req.body['scope']} already exists!")
    state["secrets"][req.body["scope"]] = {}
    return 200, {}


def secret_scope_list(state, req):
    scopes = [{"name": s, "backend_type": "DATABRICKS"} for s in sorted(state["secrets"])]
    return 200, {"scopes": scopes}


def secret_scope_delete(state, req):
    _require(req.body, "scope")
    if state["secrets"].pop(req.body["scope"], None) is None:
        raise not_found(f"Scope {req.body['scope']}")
    return 200, {}


def secret_put(state, req):
    _require(req.body, "scope", "key")
    scope = state["secrets"].get(req.body["scope"])
    if scope is None:
        raise not_found(f"Scope {req.body['scope']}")
    scope[req.body["key"]] = {
        "value": req.body.get("string_value", req.body.get("bytes_value", "")),
        "last_updated_timestamp": _now_ms(),
    }
    return 200, {}


def secret_list(state, req):
    scope = state["secrets"].get(req.query.get("scope", ""))
    if scope is None:
        raise not_found(f"Scope {req.query.get('scope')}")
    secrets = [
        {"key": k, "last_updated_timestamp": v["last_updated_timestamp"]}
        for k, v in sorted(scope.items())
    ]
    return 200, {"secrets": secrets}


UC = "/api/2.1/unity-catalog"
ROUTES = [
    ("GET", r"/api/2\.0/preview/scim/v2/Me", scim_me),
    ("POST", r"/api/2\.0/workspace/mkdirs", workspace_mkdirs),
    ("POST", r"/api/2\.0/workspace/import", workspace_import),
    ("GET", r"/api/2\.0/workspace/export", workspace_export),
    ("GET", r"/api/2\.0/workspace/get-status", workspace_get_status),
    ("GET", r"/api/2\.0/workspace/list", workspace_list),
    ("POST", r"/api/2\.0/workspace/delete", workspace_delete),
    ("POST", UC + r"/connections", connection_create),
    ("GET", UC + r"/connections", connection_list),
    ("GET", UC + r"/connections/([^/]+)", connection_get),
    ("PATCH", UC + r"/connections/([^/]+)", connection_update),
    ("DELETE", UC + r"/connections/([^/]+)", connection_delete),
    ("POST", UC + r"/schemas", schema_create),
    ("GET", UC + r"/schemas", schema_list),
    ("GET", UC + r"/schemas/([^/]+)", schema_get),
    ("PATCH", UC + r"/schemas/([^/]+)", schema_update),
    ("DELETE", UC + r"/schemas/([^/]+)", schema_delete),
    ("POST", UC + r"/volumes", volume_create),
    ("GET", UC + r"/volumes", volume_list),
    ("GET", UC + r"/volumes/([^/]+)", volume_get),
    ("DELETE", UC + r"/volumes/([^/]+)", volume_delete),
    ("PUT", r"/api/2\.0/fs/files(/.+)", file_put),
    ("GET", r"/api/2\.0/fs/files(/.+)", file_get),
    ("HEAD", r"/api/2\.0/fs/files(/.+)", file_head),
    ("DELETE", r"/api/2\.0/fs/files(/.+)", file_delete),
    ("PUT", r"/api/2\.0/fs/directories(/.+)", directory_put),
    ("HEAD", r"/api/2\.0/fs/directories(/.+)", directory_put),
    ("GET", r"/api/2\.0/fs/directories(/.+)", directory_list),
    ("POST", r"/api/2\.0/pipelines", pipeline_create),
    ("GET", r"/api/2\.0/pipelines", pipeline_list),
    ("GET", r"/api/2\.0/pipelines/([^/]+)", pipeline_get),
    ("PUT", r"/api/2\.0/pipelines/([^/]+)", pipeline_edit),
    ("DELETE", r"/api/2\.0/pipelines/([^/]+)", pipeline_delete),
    ("POST", r"/api/2\.0/pipelines/([^/]+)/updates", pipeline_start_update),
    ("GET", r"/api/2\.0/pipelines/([^/]+)/updates/([^/]+)", pipeline_get_update),
    ("GET", r"/api/2\.0/pipelines/([^/]+)/events", pipeline_events),
    ("POST", r"/api/2\.[12]/jobs/create", job_create),
    ("GET", r"/api/2\.[12]/jobs/get", job_get),
    ("POST", r"/api/2\.[12]/jobs/reset", job_reset),
    ("POST", r"/api/2\.[12]/jobs/delete", job_delete),
    ("GET", r"/api/2\.[12]/jobs/list", job_list),
    ("POST", r"/api/2\.0/secrets/scopes/create", secret_scope_create),
    ("GET", r"/api/2\.0/secrets/scopes/list", secret_scope_list),
    ("POST", r"/api/2\.0/secrets/scopes/delete", secret_scope_delete),
    ("POST", r"/api/2\.0/secrets/put", secret_put),
    ("GET", r"/api/2\.0/secrets/list", secret_list),
]
COMPILED_ROUTES = [(m, re.compile(p + r"/?$"), h) for m, p, h in ROUTES]
