"""A local OAuth 2.0 authorization server, for testing the engine's auth flows without a vendor.

Grants: authorization code with PKCE (S256 only, loopback redirect URIs only, one-time codes),
refresh token, and client credentials. The "user" approves at once: GET /authorize answers with
the redirect to the client's loopback address, so any HTTP client following redirects plays the
browser. Registered clients are `{client_id: secret}`; a secret of None is a public client.

    with OAuthServer(clients={"app": "s3cret"}) as server:
        server.authorize_url, server.token_url
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import urlencode, urlsplit

from tools.simulator.core import HttpError, Request, Response, Simulator, route
from tools.simulator.oauth import TokenIssuer

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def s256(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def _oauth_error(error: str, status: int = 400, description: str = "") -> HttpError:
    return HttpError(status, {"error": error, "error_description": description or error})


class OAuthServer(Simulator):
    service_name = "oauth"

    def __init__(self, clients: dict[str, str | None] | None = None, **kwargs):
        self.clients = dict(clients or {"lakeflow-test-client": "lakeflow-test-secret"})
        super().__init__(**kwargs)

    def seed_data(self) -> None:
        self.tokens = TokenIssuer(self.clock, ttl=3600, prefix="oauth-access")
        self.codes: dict[str, dict] = {}  # code → what /authorize was asked
        self.refresh_tokens: dict[str, dict] = {}  # refresh token → client_id, scope

    @property
    def authorize_url(self) -> str:
        return f"{self.url}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @route("GET", "/authorize", auth=False)
    def authorize(self, request: Request) -> Response:
        client_id, redirect_uri = request.arg("client_id"), request.arg("redirect_uri") or ""
        if client_id not in self.clients:
            raise _oauth_error("unauthorized_client", description=f"unknown client {client_id!r}")
        where = urlsplit(redirect_uri)
        if where.scheme != "http" or where.hostname not in LOOPBACK_HOSTS:
            raise _oauth_error("invalid_request", description="redirect_uri must be a loopback URL")
        if request.arg("response_type") != "code":
            raise _oauth_error("unsupported_response_type")
        if request.arg("code_challenge_method") != "S256" or not request.arg("code_challenge"):
            raise _oauth_error("invalid_request", description="PKCE with S256 is required")
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "challenge": request.arg("code_challenge"),
                "scope": request.arg("scope", ""),
            }
        query = {"code": code, **({"state": request.arg("state")} if request.arg("state") else {})}
        separator = "&" if where.query else "?"
        return Response.empty(302, {"Location": f"{redirect_uri}{separator}{urlencode(query)}"})

    def _client(self, request: Request, form: dict[str, str]) -> str:
        """The authenticated client id: HTTP basic or form fields; public clients send no secret."""
        client_id, secret = request.basic_auth() or (
            form.get("client_id"),
            form.get("client_secret"),
        )
        if client_id not in self.clients:
            raise _oauth_error("invalid_client", 401)
        expected = self.clients[client_id]
        if expected is not None and secret != expected:
            raise _oauth_error("invalid_client", 401)
        return client_id

    @route("POST", "/token", auth=False)
    def token(self, request: Request):
        form = request.form()
        client_id = self._client(request, form)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self.tokens.issue(scope=form.get("scope", ""))
        if grant == "authorization_code":
            with self.lock:
                asked = self.codes.pop(form.get("code", ""), None)  # one use only
            if asked is None or asked["client_id"] != client_id:
                raise _oauth_error("invalid_grant", description="unknown or used code")
            if form.get("redirect_uri") != asked["redirect_uri"]:
                raise _oauth_error("invalid_grant", description="redirect_uri does not match")
            if s256(form.get("code_verifier", "")) != asked["challenge"]:
                raise _oauth_error("invalid_grant", description="code_verifier does not match")
            return self._with_refresh(client_id, asked["scope"])
        if grant == "refresh_token":
            with self.lock:
                known = self.refresh_tokens.get(form.get("refresh_token", ""))
            if known is None or known["client_id"] != client_id:
                raise _oauth_error("invalid_grant", description="unknown refresh token")
            return self.tokens.issue(scope=known["scope"])
        raise _oauth_error("unsupported_grant_type")

    def _with_refresh(self, client_id: str, scope: str) -> dict:
        refresh = secrets.token_urlsafe(32)
        with self.lock:
            self.refresh_tokens[refresh] = {"client_id": client_id, "scope": scope}
        return self.tokens.issue(refresh_token=refresh, scope=scope)
