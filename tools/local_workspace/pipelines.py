"""Lakeflow pipelines: specs, updates that run QUEUED → RUNNING → COMPLETED/FAILED, events."""

from __future__ import annotations

import ast
import fnmatch
import re
import time

from libs import runtime_names
from tools.local_workspace.api import ApiError, exists, invalid, next_id, not_found, now_ms, require
from tools.local_workspace.ingestion import validate_ingestion
from tools.local_workspace.scim import LOCAL_USER
from tools.local_workspace.workspace_files import parent

QUEUED_SECONDS = 0.2


RUNNING_SECONDS = 0.6


PIPELINE_SPEC_KEYS = (
    "name", "catalog", "schema", "target", "serverless", "development", "continuous", "channel",
    "photon", "edition", "configuration", "libraries", "clusters", "root_path", "environment",
    "notifications", "tags", "budget_policy_id", "allow_duplicate_names", "ingestion_definition",
)  # fmt: skip


def _pipeline_spec(body: dict, pipeline_id: str) -> dict:
    spec = {k: body[k] for k in PIPELINE_SPEC_KEYS if k in body and body[k] is not None}
    spec.pop("allow_duplicate_names", None)
    spec["id"] = pipeline_id
    return spec


def pipeline_create(state, req):
    require(req.body, "name")
    if not req.body.get("allow_duplicate_names"):
        for pipeline in state["pipelines"].values():
            if pipeline["spec"]["name"] == req.body["name"]:
                raise exists(f"Pipeline '{req.body['name']}'")
    pipeline_id = f"local-pipeline-{next_id(state)}"
    state["pipelines"][pipeline_id] = {
        "spec": _pipeline_spec(req.body, pipeline_id),
        "creator_user_name": LOCAL_USER,
        "created_at": now_ms(),
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
            "id": str(next_id(state)),
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
                f"{parent(path)}/sources/{source_name}/"
                f"{runtime_names.generated_file_name(source_name)}"
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
                isinstance(n, ast.FunctionDef) and n.name == runtime_names.REGISTER_FUNCTION
                for n in tree.body
            ):
                problems.append(
                    f"{merged} does not define {runtime_names.REGISTER_FUNCTION}(spark)"
                )
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
        spec = state["pipelines"][pipeline_id]["spec"]
        if "ingestion_definition" in spec:  # managed ingestion: a wheel, no libraries
            problems = validate_ingestion(state, store, spec)
        else:
            problems = _validate_libraries(state, store, spec)
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
    require(req.body, "name")
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
    update_id = f"local-update-{next_id(state)}"
    state["updates"][update_id] = {
        "update_id": update_id,
        "pipeline_id": pipeline_id,
        "state": "QUEUED",
        "full_refresh": bool(req.body.get("full_refresh")),
        "creation_time": now_ms(),
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


ROUTES = [
    ("POST", r"/api/2\.0/pipelines", pipeline_create),
    ("GET", r"/api/2\.0/pipelines", pipeline_list),
    ("GET", r"/api/2\.0/pipelines/([^/]+)", pipeline_get),
    ("PUT", r"/api/2\.0/pipelines/([^/]+)", pipeline_edit),
    ("DELETE", r"/api/2\.0/pipelines/([^/]+)", pipeline_delete),
    ("POST", r"/api/2\.0/pipelines/([^/]+)/updates", pipeline_start_update),
    ("GET", r"/api/2\.0/pipelines/([^/]+)/updates/([^/]+)", pipeline_get_update),
    ("GET", r"/api/2\.0/pipelines/([^/]+)/events", pipeline_events),
]
