"""How a source's connection authenticates, declared in connector_spec.yaml, and `doit auth:<s>`.

    oauth:                      # absent: static options (keys, tokens, passwords as parameters)
      flow: m2m | u2m
      token_url: https://vendor.example/oauth/token
      authorize_url: https://vendor.example/oauth/authorize   # u2m only
      scopes: [read]

- static: the connection carries the parameters as they are; `auth` has nothing to do.
- m2m (client credentials): parameters `client_id` and `client_secret` (`secret: true`); the
  connector fetches its own tokens. `doit auth:<s>` proves the pair against token_url and keeps
  nothing.
- u2m (authorization code with PKCE): parameter `client_id` (`client_secret` optional, for
  confidential clients) and `refresh_token` (`secret: true`, filled by `doit auth:<s>`, never by a
  file). `doit auth:<s>` opens the browser on authorize_url with a loopback redirect
  (127.0.0.1, a free port), exchanges the code with its verifier, and writes the refresh token
  straight into the workspace connection: it is never written to disk, the state or the log.
  Deploy the source first (the connection must exist).
"""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

from tools.lakeflow import project, specs
from tools.lakeflow.errors import LakeflowError

FLOWS = ("m2m", "u2m")
OAUTH_FIELDS = {"flow", "token_url", "authorize_url", "scopes"}
REFRESH_TOKEN = "refresh_token"
CALLBACK_PATH = "/callback"
CALLBACK_TIMEOUT_SECONDS = 300.0


@dataclass
class AuthMethod:
    kind: str  # static | oauth_m2m | oauth_u2m
    token_url: str | None = None
    authorize_url: str | None = None
    scopes: list[str] = field(default_factory=list)


def load_auth(name: str, root: Path = project.REPO_ROOT) -> AuthMethod:
    """The source's auth method, checked against its parameters; errors name file and field."""
    path = project.source_dir(name, root) / "connector_spec.yaml"
    where = path.relative_to(root).as_posix()
    parameters = {p.name: p for p in specs.load_connector_spec(name, root).parameters}
    oauth = (yaml.safe_load(path.read_text()) or {}).get("oauth")
    if oauth is None:
        return AuthMethod("static")
    if not isinstance(oauth, dict):
        raise LakeflowError("expected a mapping", file=where, field="oauth")
    unknown = sorted(set(oauth) - OAUTH_FIELDS)
    if unknown:
        raise LakeflowError("unknown field", file=where, field=f"oauth.{unknown[0]}")
    flow = oauth.get("flow")
    if flow not in FLOWS:
        raise LakeflowError(f"expected one of {', '.join(FLOWS)}", file=where, field="oauth.flow")
    urls = ["token_url", *(["authorize_url"] if flow == "u2m" else [])]
    for key in urls:
        value = oauth.get(key)
        if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
            raise LakeflowError("expected an http(s) URL", file=where, field=f"oauth.{key}")
    scopes = oauth.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise LakeflowError("expected a list of strings", file=where, field="oauth.scopes")
    needed = {"client_id": False, **({"client_secret": True} if flow == "m2m" else {})}
    if flow == "u2m":
        needed[REFRESH_TOKEN] = True
    for parameter, secret in needed.items():
        at = f"connection.parameters.{parameter}"
        if parameter not in parameters:
            raise LakeflowError(f"oauth flow {flow} needs this parameter", file=where, field=at)
        if secret and not parameters[parameter].secret:
            raise LakeflowError("must be marked `secret: true`", file=where, field=f"{at}.secret")
    if flow == "u2m" and parameters[REFRESH_TOKEN].required:
        raise LakeflowError(
            f"must not be required: `doit auth:{name}` fills it after deploy",
            file=where,
            field=f"connection.parameters.{REFRESH_TOKEN}.required",
        )
    return AuthMethod(
        f"oauth_{flow}",
        token_url=oauth["token_url"],
        authorize_url=oauth.get("authorize_url"),
        scopes=list(scopes),
    )


def _session(method: AuthMethod, options: dict[str, str], **extra):
    from authlib.integrations.requests_client import OAuth2Session

    secret = options.get("client_secret")
    return OAuth2Session(
        options.get("client_id"),
        secret,
        scope=" ".join(method.scopes) or None,
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
        **extra,
    )


def _token(fetch: Callable[[], dict], method: AuthMethod) -> dict:
    """Run a token request; an OAuth error becomes one line (the server's words, no secrets)."""
    from authlib.integrations.base_client.errors import OAuthError

    try:
        return fetch()
    except OAuthError as error:
        raise LakeflowError(
            f"token endpoint {method.token_url} refused: {error.error}"
            + (f" ({error.description})" if error.description else "")
        ) from None


def check_client_credentials(method: AuthMethod, options: dict[str, str]) -> int:
    """Fetch one m2m token to prove the pair works; returns its lifetime in seconds."""
    session = _session(method, options)
    token = _token(
        lambda: session.fetch_token(method.token_url, grant_type="client_credentials"), method
    )
    return int(token.get("expires_in") or 0)


class _Callback(BaseHTTPRequestHandler):
    """The loopback redirect target: keeps the first callback's URL, answers the browser."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if urlsplit(self.path).path != CALLBACK_PATH:
            self.send_error(404)
            return
        self.server.callback_url = f"http://127.0.0.1:{self.server.server_port}{self.path}"
        body = b"Lakeflow: authorization received. You can close this window."
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.received.set()

    def log_message(self, *args):  # the query holds the code: keep it out of stderr
        pass


def authorization_code_flow(
    method: AuthMethod,
    options: dict[str, str],
    open_url: Callable[[str], object] = webbrowser.open,
    timeout: float = CALLBACK_TIMEOUT_SECONDS,
) -> dict:
    """PKCE authorization code from a loopback redirect; returns the token response."""
    from authlib.common.security import generate_token

    server = HTTPServer(("127.0.0.1", 0), _Callback)
    server.received, server.callback_url = threading.Event(), None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        redirect = f"http://127.0.0.1:{server.server_port}{CALLBACK_PATH}"
        session = _session(method, options, redirect_uri=redirect, code_challenge_method="S256")
        verifier = generate_token(64)
        url, state = session.create_authorization_url(method.authorize_url, code_verifier=verifier)
        print(f"auth: opening {method.authorize_url} in the browser; waiting for the redirect")
        open_url(url)
        if not server.received.wait(timeout):
            raise LakeflowError(f"no authorization arrived at {redirect} within {timeout:g}s")
        answer = parse_qs(urlsplit(server.callback_url).query)
        if "error" in answer:
            raise LakeflowError(f"authorization refused: {answer['error'][0]}")
        return _token(
            lambda: session.fetch_token(
                method.token_url,
                authorization_response=server.callback_url,
                state=state,
                code_verifier=verifier,
            ),
            method,
        )
    finally:
        server.shutdown()
        server.server_close()


def _connection_path(ctx) -> str:
    """The connection's endpoint; it must exist (deploy made it) before the browser opens."""
    from databricks.sdk.errors import NotFound

    from tools.lakeflow.connection import CONNECTIONS_API

    path = f"{CONNECTIONS_API}/{ctx.connection_name}"
    try:
        ctx.client.api_client.do("GET", path)
    except NotFound:
        raise LakeflowError(
            f"connection {ctx.connection_name} does not exist on target {ctx.target.name!r}; "
            f"run `doit deploy:{ctx.name}` first"
        ) from None
    return path


def authorize(ctx, open_url: Callable[[str], object] = webbrowser.open) -> str:
    """`doit auth:<s>`: what the source's auth method needs done by hand. Returns the method."""
    method = load_auth(ctx.name, ctx.root)
    if method.kind == "static":
        print(f"auth {ctx.name}: static options; nothing to authorize")
    elif method.kind == "oauth_m2m":
        lifetime = check_client_credentials(method, ctx.options)
        print(
            f"auth {ctx.name}: client credentials accepted (token valid {lifetime}s); nothing stored"
        )
    else:
        path = _connection_path(ctx)
        token = authorization_code_flow(method, ctx.options, open_url)
        if not token.get("refresh_token"):
            raise LakeflowError(
                f"{method.token_url} returned no refresh token; ask for offline access in "
                "oauth.scopes",
                file=f"sources/{ctx.name}/connector_spec.yaml",
                field="oauth.scopes",
            )
        # The connection is the only place the refresh token is kept.
        options = {**ctx.options, REFRESH_TOKEN: token["refresh_token"]}
        ctx.client.api_client.do("PATCH", path, body={"options": options})
        print(f"auth {ctx.name}: refresh token stored in connection {ctx.connection_name} (***)")
    return method.kind
