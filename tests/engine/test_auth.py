"""Connection auth methods: spec checks, OAuth m2m and u2m (PKCE, loopback) against the local
OAuth server, and `doit auth:<s>` storing the refresh token only in the workspace connection."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
import requests
import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import auth, project
from tools.lakeflow.errors import LakeflowError
from tools.local_workspace import LocalWorkspace
from tools.simulator.oauth_server import OAuthServer, s256

CLIENT, SECRET = "lakeflow-test-client", "lakeflow-test-secret"


def example_spec(**oauth) -> dict:
    spec = yaml.safe_load((project.source_dir("example") / "connector_spec.yaml").read_text())
    spec["connection"]["parameters"] += [
        {"name": "client_id", "type": "string", "default": CLIENT},
        {"name": "client_secret", "type": "string", "secret": True},
        {"name": "refresh_token", "type": "string", "secret": True},
    ]
    if oauth:
        spec["oauth"] = oauth
    return spec


def write_spec(root: Path, spec: dict) -> None:
    (root / "sources" / "example" / "connector_spec.yaml").write_text(yaml.safe_dump(spec))


@pytest.fixture
def repo(tmp_path) -> Path:
    shutil.copytree(project.source_dir("example"), tmp_path / "sources" / "example")
    return tmp_path


@pytest.fixture
def server():
    with OAuthServer(clients={CLIENT: SECRET}) as sim:
        yield sim


def method(server, flow="m2m") -> auth.AuthMethod:
    return auth.AuthMethod(f"oauth_{flow}", server.token_url, server.authorize_url, scopes=["read"])


def test_a_spec_without_oauth_is_static(repo):
    assert auth.load_auth("example", repo).kind == "static"


def test_oauth_flows_are_read_from_the_spec(repo):
    write_spec(repo, example_spec(flow="m2m", token_url="https://v.example/token"))
    assert auth.load_auth("example", repo).kind == "oauth_m2m"
    write_spec(
        repo,
        example_spec(
            flow="u2m",
            token_url="https://v.example/token",
            authorize_url="https://v.example/authorize",
            scopes=["offline_access"],
        ),
    )
    loaded = auth.load_auth("example", repo)
    assert (loaded.kind, loaded.scopes) == ("oauth_u2m", ["offline_access"])


def _without(spec: dict, name: str) -> dict:
    spec["connection"]["parameters"] = [
        p for p in spec["connection"]["parameters"] if p["name"] != name
    ]
    return spec


def _public_secret(spec: dict) -> dict:
    for p in spec["connection"]["parameters"]:
        if p["name"] == "client_secret":
            p["secret"] = False
    return spec


def _required_refresh(spec: dict) -> dict:
    for p in spec["connection"]["parameters"]:
        if p["name"] == "refresh_token":
            p["required"] = True
    return spec


M2M = {"flow": "m2m", "token_url": "https://v.example/token"}
U2M = {**M2M, "flow": "u2m", "authorize_url": "https://v.example/authorize"}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (example_spec(flow="password", token_url="https://v.example/t"), "oauth.flow"),
        (example_spec(flow="m2m", token_url="ftp://v.example/t"), "oauth.token_url"),
        (example_spec(flow="u2m", token_url="https://v.example/t"), "oauth.authorize_url"),
        (example_spec(**M2M, scope="x"), "oauth.scope"),
        (_without(example_spec(**M2M), "client_secret"), "connection.parameters.client_secret"),
        (_public_secret(example_spec(**M2M)), "connection.parameters.client_secret.secret"),
        (_without(example_spec(**U2M), "refresh_token"), "connection.parameters.refresh_token"),
        (_required_refresh(example_spec(**U2M)), "connection.parameters.refresh_token.required"),
    ],
)
def test_a_bad_auth_declaration_names_the_file_and_field(repo, spec, field):
    write_spec(repo, spec)
    with pytest.raises(LakeflowError) as error:
        auth.load_auth("example", repo)
    assert error.value.field == field
    assert "sources/example/connector_spec.yaml" in str(error.value)


def test_m2m_client_credentials_are_proven_against_the_token_endpoint(server):
    options = {"client_id": CLIENT, "client_secret": SECRET}
    assert auth.check_client_credentials(method(server), options) == 3600
    assert server.tokens.issued == 1
    with pytest.raises(LakeflowError) as error:
        auth.check_client_credentials(method(server), {**options, "client_secret": "wrong-one"})
    assert "invalid_client" in str(error.value)
    assert "wrong-one" not in str(error.value)


def test_u2m_gets_a_refresh_token_through_pkce_and_the_loopback_redirect(server):
    seen = []

    def browser(url: str) -> None:  # a user who approves: follow the redirect to the loopback
        seen.append(url)
        assert requests.get(url, timeout=10).status_code == 200

    token = auth.authorization_code_flow(
        method(server, "u2m"), {"client_id": CLIENT, "client_secret": SECRET}, browser
    )
    assert token["refresh_token"] in server.refresh_tokens
    assert "code_challenge_method=S256" in seen[0]
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in seen[0]
    assert server.codes == {}  # the code was used, once


def test_the_server_refuses_a_wrong_verifier_and_a_reused_code(server):
    verifier = "v" * 64
    answer = requests.get(
        server.authorize_url,
        params={
            "response_type": "code",
            "client_id": CLIENT,
            "redirect_uri": "http://127.0.0.1:9/callback",
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        },
        allow_redirects=False,
        timeout=10,
    )
    code = answer.headers["Location"].split("code=")[1]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://127.0.0.1:9/callback",
    }
    wrong = requests.post(
        server.token_url, data={**form, "code_verifier": "x" * 64}, auth=(CLIENT, SECRET)
    )
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    again = requests.post(
        server.token_url, data={**form, "code_verifier": verifier}, auth=(CLIENT, SECRET)
    )
    assert again.status_code == 400  # a failed exchange still used the code up


BROWSER = """#!{python}
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=30).read()
"""


def test_doit_auth_stores_the_refresh_token_only_in_the_workspace_connection(tmp_path):
    (tmp_path / "repo").mkdir()
    box = DoitSandbox(tmp_path / "repo", sources=("example",))
    with OAuthServer(clients={CLIENT: None}) as server:  # a public client: PKCE alone
        spec = example_spec(
            flow="u2m", token_url=server.token_url, authorize_url=server.authorize_url
        )
        spec["connection"]["parameters"] = [
            p for p in spec["connection"]["parameters"] if p["name"] != "client_secret"
        ]
        write_spec(box.root, spec)
        browser = tmp_path / "browser"
        browser.write_text(BROWSER.format(python=sys.executable))
        browser.chmod(0o755)
        env = {"BROWSER": str(browser)}

        refused = box.doit("auth:example", check=False, env=env)
        assert refused.returncode != 0
        assert "run `doit deploy:example` first" in refused.stderr + refused.stdout

        # What deploy would have made: the connection (created here, to keep the test short).
        with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
            WorkspaceClient(config=Config(host=ws.url, token=ws.token)).api_client.do(
                "POST",
                "/api/2.1/unity-catalog/connections",
                body={
                    "name": "example_connection",
                    "connection_type": "GENERIC_LAKEFLOW_CONNECT",
                    "options": {"client_id": CLIENT},
                },
            )
        result = box.doit("auth:example", env=env)
        (refresh,) = server.refresh_tokens

    assert "refresh token stored in connection example_connection" in result.stdout
    workspace_state = json.loads((box.root / ".lakeflow/local/state.json").read_text())
    assert (
        workspace_state["connections"]["example_connection"]["options"]["refresh_token"] == refresh
    )
    assert refresh not in result.stdout + result.stderr
    local = box.root / ".lakeflow" / "local"
    for path in box.root.rglob("*"):
        if path.is_file() and local not in path.parents:
            assert refresh.encode() not in path.read_bytes(), path
