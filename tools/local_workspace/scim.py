"""Identity: who the caller is (the SDK's `current_user.me()`)."""

from __future__ import annotations

LOCAL_USER = "local.developer@example.com"


def scim_me(state, req):
    return 200, {
        "id": "1",
        "userName": LOCAL_USER,
        "displayName": "Local Developer",
        "active": True,
    }


ROUTES = [
    ("GET", r"/api/2\.0/preview/scim/v2/Me", scim_me),
]
