"""Secret scopes and secrets (values are kept in the 0600 state file, never listed)."""

from __future__ import annotations

from tools.local_workspace.api import ApiError, not_found, now_ms, require


def secret_scope_create(state, req):
    require(req.body, "scope")
    if req.body["scope"] in state["secrets"]:
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"Scope {req.body['scope']} already exists!")
    state["secrets"][req.body["scope"]] = {}
    return 200, {}


def secret_put(state, req):
    require(req.body, "scope", "key")
    scope = state["secrets"].get(req.body["scope"])
    if scope is None:
        raise not_found(f"Scope {req.body['scope']}")
    scope[req.body["key"]] = {
        "value": req.body.get("string_value", req.body.get("bytes_value", "")),
        "last_updated_timestamp": now_ms(),
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


ROUTES = [
    ("POST", r"/api/2\.0/secrets/scopes/create", secret_scope_create),
    ("POST", r"/api/2\.0/secrets/put", secret_put),
    ("GET", r"/api/2\.0/secrets/list", secret_list),
]
