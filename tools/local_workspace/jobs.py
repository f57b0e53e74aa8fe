"""Jobs (the notebook path's schedules): create, read, list, reset settings, delete."""

from __future__ import annotations

from tools.local_workspace.api import ApiError, next_id, now_ms, require
from tools.local_workspace.scim import LOCAL_USER


def job_create(state, req):
    job_id = next_id(state)
    state["jobs"][str(job_id)] = {
        "job_id": job_id,
        "settings": req.body,
        "created_time": now_ms(),
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
    require(req.body, "job_id", "new_settings")
    _job(state, req.body["job_id"])["settings"] = req.body["new_settings"]
    return 200, {}


def job_delete(state, req):
    require(req.body, "job_id")
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


ROUTES = [
    ("POST", r"/api/2\.[12]/jobs/create", job_create),
    ("GET", r"/api/2\.[12]/jobs/get", job_get),
    ("POST", r"/api/2\.[12]/jobs/reset", job_reset),
    ("POST", r"/api/2\.[12]/jobs/delete", job_delete),  # notebook_deploy: a removed schedule
    ("GET", r"/api/2\.[12]/jobs/list", job_list),
]
