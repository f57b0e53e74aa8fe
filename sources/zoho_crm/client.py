"""The Zoho CRM REST client: authorised requests, one refresh on an expired token, paging."""

from __future__ import annotations

from collections.abc import Iterator

from libs.connector_base import ProcessLocal
from libs.http_retry import ConnectorAuthError, RetryPolicy, request_with_retry
from sources.zoho_crm.auth import ZohoTokenManager

ZOHO_PER_PAGE = 200  # the records API's maximum


class ZohoClient(ProcessLocal):
    def __init__(self, api_url: str, tokens: ZohoTokenManager, policy: RetryPolicy):
        self.api_url = api_url.rstrip("/")
        self.tokens = tokens
        self.policy = policy

    def get(self, path: str, params: dict | None = None, headers: dict | None = None) -> dict:
        """The JSON body, or {} for Zoho's 204 No Content (no records)."""
        for attempt in (1, 2):
            auth = {"Authorization": f"Zoho-oauthtoken {self.tokens.token()}", **(headers or {})}
            try:
                response = request_with_retry(
                    self.session(), "GET", f"{self.api_url}{path}", policy=self.policy,
                    params=params, headers=auth,
                )  # fmt: skip
            except ConnectorAuthError as error:
                if attempt == 2 or error.status != 401:
                    raise
                self.tokens.forget()  # expired early: exchange the refresh token once more
                continue
            return response.json() if response.status_code != 204 and response.content else {}
        return {}

    def pages(
        self, path: str, params: dict, headers: dict | None = None, start: int = 1
    ) -> Iterator[tuple[int, list, bool]]:
        """(page number, records, more_records) for each page from `start`."""
        page = start
        while True:
            body = self.get(path, {**params, "page": page, "per_page": ZOHO_PER_PAGE}, headers)
            more = bool((body.get("info") or {}).get("more_records"))
            yield page, body.get("data") or [], more
            if not more:
                return
            page += 1
