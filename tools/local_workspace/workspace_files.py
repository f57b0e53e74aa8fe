"""Workspace objects (folders, files, notebooks) and the Files API for files in UC volumes."""

from __future__ import annotations

import base64
from urllib.parse import unquote

from tools.local_workspace.api import ApiError, exists, invalid, next_id, not_found, now_ms, require

NOTEBOOK_HEADER = b"# Databricks notebook source"


def _norm(path: str) -> str:
    if not path or not path.startswith("/"):
        raise invalid(f"Path ({path!r}) must be absolute")
    return "/" + "/".join(p for p in path.split("/") if p)


def parent(path: str) -> str:
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
            now = now_ms()
            state["workspace"][current] = {
                "object_type": "DIRECTORY",
                "object_id": next_id(state),
                "modified_at": now,
            }
        elif obj["object_type"] != "DIRECTORY":
            raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"{current} exists and is not a folder")


def workspace_mkdirs(state, req):
    require(req.body, "path")
    _mkdirs(state, _norm(req.body["path"]))
    return 200, {}


def workspace_import(state, req):
    require(req.body, "path")
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
    folder = parent(path)
    if state["workspace"].get(folder, {}).get("object_type") != "DIRECTORY":
        raise not_found(f"The parent folder ({folder})")
    existing = state["workspace"].get(path)
    if existing and not req.body.get("overwrite"):
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) already exists.")
    if existing and existing["object_type"] == "DIRECTORY":
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Path ({path}) is a folder.")
    now = max(now_ms(), (existing or {}).get("modified_at", 0) + 1)
    state["workspace"][path] = {
        "object_type": "NOTEBOOK" if notebook else "FILE",
        "object_id": (existing or {}).get("object_id") or next_id(state),
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
    require(req.body, "path")
    path = _norm(req.body["path"])
    obj = _workspace_get(state, path)
    below = [p for p in state["workspace"] if p.startswith(path.rstrip("/") + "/")]
    if obj["object_type"] == "DIRECTORY" and below and not req.body.get("recursive"):
        raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({path}) is not empty")
    for p in [path, *below]:
        state["workspace"].pop(p, None)
    return 200, {}


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
        "modified_at": now_ms(),
    }
    return 204, None


def file_delete(state, req, path):
    path = "/" + unquote(path).lstrip("/")
    if path not in state["files"]:
        raise not_found(f"File '{path}'")
    del state["files"][path]
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


ROUTES = [
    ("POST", r"/api/2\.0/workspace/mkdirs", workspace_mkdirs),
    ("POST", r"/api/2\.0/workspace/import", workspace_import),
    ("GET", r"/api/2\.0/workspace/export", workspace_export),
    ("GET", r"/api/2\.0/workspace/list", workspace_list),
    ("POST", r"/api/2\.0/workspace/delete", workspace_delete),
    ("PUT", r"/api/2\.0/fs/files(/.+)", file_put),
    ("DELETE", r"/api/2\.0/fs/files(/.+)", file_delete),  # notebook_deploy: a stale volume file
    ("GET", r"/api/2\.0/fs/directories(/.+)", directory_list),
]
