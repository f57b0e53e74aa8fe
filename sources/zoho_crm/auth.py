"""Zoho OAuth: a long-lived refresh token exchanged for short-lived access tokens.

The exchange happens at the accounts server of the account's data centre (accounts.zoho.com,
.eu, .in, ...), which is why it is configurable. Tokens are cached until shortly before expiry.
"""

from __future__ import annotations

from libs.connector_base import ProcessLocal
from libs.http_retry import ConnectorAuthError, RetryPolicy, request_with_retry

ZOHO_TOKEN_MARGIN_SECONDS = 60


class ZohoTokenManager(ProcessLocal):
    process_local = {"_token": None, "_expires": 0.0}  # each process exchanges its own

    def __init__(self, accounts_url: str, client_id: str, client_secret: str, refresh_token: str,
                 policy: RetryPolicy):  # fmt: skip
        self.token_url = f"{accounts_url.rstrip('/')}/oauth/v2/token"
        self._form = {"grant_type": "refresh_token", "client_id": client_id,
                      "client_secret": client_secret, "refresh_token": refresh_token}  # fmt: skip
        self.policy = policy
        self._token: str | None = None
        self._expires = 0.0

    def token(self) -> str:
        if self._token and self.policy.clock() < self._expires - ZOHO_TOKEN_MARGIN_SECONDS:
            return self._token
        body = request_with_retry(
            None, "POST", self.token_url, policy=self.policy, data=self._form
        ).json()
        if "access_token" not in body:
            # Zoho answers a bad refresh token or client with HTTP 200 and an `error` field.
            raise ConnectorAuthError(
                "zoho_crm",
                f"the refresh token exchange at {self.token_url} failed ({body.get('error', body)}); "
                "check client_id, client_secret, refresh_token and accounts_url",
                status=401,
            )
        self._token = body["access_token"]
        self._expires = self.policy.clock() + float(body.get("expires_in", 3600))
        return self._token

    def forget(self) -> None:
        self._token = None
