"""What every service handler shares: the request, API errors, and time and id helpers.

A handler takes (state, request, *path groups) and returns (status, body); errors are raised as
ApiError and rendered as `{"error_code": ..., "message": ...}` like the real API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


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


def require(body: dict, *names: str) -> None:
    for name in names:
        if body.get(name) in (None, ""):
            raise invalid(f"Missing required field: {name}")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: dict = field(default_factory=dict)
    raw: bytes = b""
    store: object = None  # the Store, for blobs


def now_ms() -> int:
    return int(time.time() * 1000)


def next_id(state) -> int:
    state["counter"] += 1
    return state["counter"]
