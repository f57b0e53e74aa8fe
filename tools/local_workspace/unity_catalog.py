"""Unity Catalog: connections, schemas and volumes."""

from __future__ import annotations

import re
from urllib.parse import unquote

from tools.local_workspace.api import exists, invalid, next_id, not_found, now_ms, require
from tools.local_workspace.scim import LOCAL_USER

SENSITIVE_OPTION = re.compile(r"(key|token|secret|password|credential)", re.IGNORECASE)


def _connection_view(conn: dict) -> dict:
    view = dict(conn)
    view["options"] = {k: v for k, v in conn["options"].items() if not SENSITIVE_OPTION.search(k)}
    return view


def connection_create(state, req):
    require(req.body, "name", "connection_type")
    name = req.body["name"]
    if name in state["connections"]:
        raise exists(f"Connection '{name}'")
    if not isinstance(req.body.get("options", {}), dict):
        raise invalid("options must be a map of strings")
    now = now_ms()
    state["connections"][name] = {
        "name": name,
        "full_name": name,
        "connection_type": req.body["connection_type"],
        "options": dict(req.body.get("options") or {}),
        "comment": req.body.get("comment", ""),
        "owner": LOCAL_USER,
        "created_at": now,
        "updated_at": now,
        "connection_id": str(next_id(state)),
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
    conn["updated_at"] = now_ms()
    return 200, _connection_view(conn)


def connection_delete(state, req, name):
    _connection(state, name)
    del state["connections"][unquote(name)]
    return 200, {}


def schema_create(state, req):
    require(req.body, "name", "catalog_name")
    full = f"{req.body['catalog_name']}.{req.body['name']}"
    if full in state["schemas"]:
        raise exists(f"Schema '{full}'")
    state["schemas"][full] = {
        "name": req.body["name"],
        "catalog_name": req.body["catalog_name"],
        "full_name": full,
        "comment": req.body.get("comment", ""),
        "owner": LOCAL_USER,
        "created_at": now_ms(),
    }
    return 200, state["schemas"][full]


def _schema(state, full: str) -> dict:
    if unquote(full) not in state["schemas"]:
        raise not_found(f"Schema '{unquote(full)}'")
    return state["schemas"][unquote(full)]


def schema_get(state, req, full):
    return 200, _schema(state, full)


def schema_delete(state, req, full):
    _schema(state, full)
    del state["schemas"][unquote(full)]
    return 200, {}


def volume_create(state, req):
    require(req.body, "name", "catalog_name", "schema_name")
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
        "volume_id": str(next_id(state)),
        "created_at": now_ms(),
    }
    return 200, state["volumes"][full]


def volume_get(state, req, full):
    if unquote(full) not in state["volumes"]:
        raise not_found(f"Volume '{unquote(full)}'")
    return 200, state["volumes"][unquote(full)]


UC = "/api/2.1/unity-catalog"
ROUTES = [
    ("POST", UC + r"/connections", connection_create),
    ("GET", UC + r"/connections/([^/]+)", connection_get),
    ("PATCH", UC + r"/connections/([^/]+)", connection_update),
    ("DELETE", UC + r"/connections/([^/]+)", connection_delete),
    ("POST", UC + r"/schemas", schema_create),
    ("GET", UC + r"/schemas/([^/]+)", schema_get),
    ("DELETE", UC + r"/schemas/([^/]+)", schema_delete),
    ("POST", UC + r"/volumes", volume_create),
    ("GET", UC + r"/volumes/([^/]+)", volume_get),
]
