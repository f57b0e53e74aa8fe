"""The local workspace is safe to leave running: token, Host check, JSON-only bodies, loopback,
private files. Accepted requests go through the real databricks-sdk; refusals through raw HTTP,
since the SDK never sends them."""

from __future__ import annotations

import socket
import stat
import time

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import NotFound, Unauthenticated

from tools.local_workspace import LocalWorkspace

ME = "/api/2.0/preview/scim/v2/Me"


@pytest.fixture
def workspace(tmp_path):
    with LocalWorkspace(tmp_path / "ws") as ws:
        yield ws


def sdk(ws: LocalWorkspace, token: str | None = None) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=ws.url, token=token or ws.token))


def bearer(ws: LocalWorkspace) -> dict[str, str]:
    return {"Authorization": f"Bearer {ws.token}"}


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sdk_with_the_workspace_token_is_served(workspace):
    assert sdk(workspace).current_user.me().user_name == "local.developer@example.com"


def test_a_request_without_the_token_or_with_another_is_refused(workspace):
    assert requests.get(workspace.url + ME, timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert requests.get(workspace.url + ME, headers=wrong, timeout=5).status_code == 401
    basic = {"Authorization": f"Basic {workspace.token}"}
    assert requests.get(workspace.url + ME, headers=basic, timeout=5).status_code == 401
    with pytest.raises(Unauthenticated, match="bearer token is required"):
        sdk(workspace, token="not-the-token").current_user.me()


def test_a_request_naming_another_host_is_refused(workspace):
    """A page on another site that resolves its name to 127.0.0.1 (DNS rebinding) sends its own
    name as Host."""
    headers = {**bearer(workspace), "Host": "attacker.example.com"}
    response = requests.get(workspace.url + ME, headers=headers, timeout=5)
    assert response.status_code == 403
    assert "attacker.example.com" in response.json()["message"]
    port = workspace.url.rsplit(":", 1)[1]
    for own in (f"127.0.0.1:{port}", f"localhost:{port}"):
        ok = requests.get(workspace.url + ME, headers={**bearer(workspace), "Host": own}, timeout=5)
        assert ok.status_code == 200


def test_a_json_endpoint_refuses_a_body_sent_as_another_type(workspace):
    """A browser form can post text/plain across sites without a preflight; it must not act."""
    url = workspace.url + "/api/2.0/workspace/mkdirs"
    body = '{"path": "/Users/x/made"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {**bearer(workspace), **({"Content-Type": content_type} if content_type else {})}
        assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 415
    with pytest.raises(NotFound):
        list(sdk(workspace).workspace.list("/Users/x"))
    headers = {**bearer(workspace), "Content-Type": "application/json; charset=utf-8"}
    assert requests.post(url, data=body, headers=headers, timeout=5).status_code == 200
    assert [o.path for o in sdk(workspace).workspace.list("/Users/x")] == ["/Users/x/made"]


def test_the_token_is_made_once_per_workspace_and_only_its_owner_reads_it(tmp_path):
    first, again = LocalWorkspace(tmp_path / "a"), LocalWorkspace(tmp_path / "a")
    other = LocalWorkspace(tmp_path / "b")
    assert first.token == again.token != other.token
    assert len(first.token) >= 32
    assert (tmp_path / "a" / "token").read_text().strip() == first.token
    assert mode(tmp_path / "a" / "token") == 0o600


def test_state_with_secrets_and_the_request_log_are_private(workspace):
    client = sdk(workspace)
    client.secrets.create_scope("lakeflow")
    client.secrets.put_secret("lakeflow", "api_key", string_value="s3cr3t")
    state_dir = workspace.state_dir
    assert "s3cr3t" in (state_dir / "state.json").read_text()
    assert mode(state_dir) == 0o700
    for name in ("state.json", "token", "requests.jsonl", ".lock"):
        assert mode(state_dir / name) == 0o600, name


def test_it_listens_on_loopback_on_a_free_port_or_the_configured_one(tmp_path, monkeypatch):
    with LocalWorkspace(tmp_path / "a") as a, LocalWorkspace(tmp_path / "b") as b:
        assert a.url.startswith("http://127.0.0.1:") and b.url.startswith("http://127.0.0.1:")
        assert a.url != b.url
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    monkeypatch.setenv("LAKEFLOW_LOCAL_PORT", str(free))
    with LocalWorkspace(tmp_path / "c") as configured:
        assert configured.url == f"http://127.0.0.1:{free}"
        assert sdk(configured).current_user.me().user_name
    monkeypatch.setenv("LAKEFLOW_LOCAL_PORT", "eighty")
    with pytest.raises(ValueError, match="LAKEFLOW_LOCAL_PORT"):
        LocalWorkspace(tmp_path / "d")


def test_injected_latency_delays_every_request(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKEFLOW_LOCAL_LATENCY_MS", "150")
    with LocalWorkspace(tmp_path / "ws") as ws:
        client = sdk(ws)
        started = time.monotonic()
        client.current_user.me()
        client.current_user.me()
        assert time.monotonic() - started >= 0.3
