"""The route table: maps (method, path) to a service's handler.

Each service module lists its endpoints in ROUTES; adding an endpoint means one handler (see
api.py for its contract) and one row in its service's ROUTES.
"""

from __future__ import annotations

import re

from tools.local_workspace import jobs, pipelines, scim, secrets, unity_catalog, workspace_files

SERVICES = (scim, workspace_files, unity_catalog, pipelines, jobs, secrets)
_COMPILED = [
    (method, re.compile(pattern + r"/?$"), handler)
    for service in SERVICES
    for method, pattern, handler in service.ROUTES
]


def route(method: str, path: str):
    """(handler, path groups) for a request, or None when no endpoint serves it."""
    for route_method, pattern, handler in _COMPILED:
        match = pattern.match(path)
        if match and route_method == method:
            return handler, match.groups()
    return None


def takes_raw_body(path: str) -> bool:
    """The Files API carries file content; every other endpoint takes and returns JSON."""
    return path.startswith("/api/2.0/fs/")
