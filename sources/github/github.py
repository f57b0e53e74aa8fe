"""GitHub connector: issues, pull requests, commits, comments, the repository and its contributors.

Reads the REST API (api.github.com or a GitHub Enterprise `base_url`) with a personal access token.
Paging follows the `Link: rel="next"` header; rate limits and transient errors go through the
shared retry helper (libs/http_retry.py).

Incremental tables keep `{"cursor": "<ISO timestamp>"}` as their offset and only emit records
strictly newer than it, so a read with nothing new returns the offset it was given.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import requests
from pyspark.sql.types import ArrayType, DataType, StructType

from libs.connector_base import (
    FixedTables,
    ProcessLocal,
    require_options,
    require_table,
    utc_text,
)
from libs.http_retry import RetryPolicy, request_with_retry
from sources.github.github_schemas import (
    GITHUB_COMMITS,
    GITHUB_CONTRIBUTORS,
    GITHUB_ISSUE_COMMENTS,
    GITHUB_ISSUES,
    GITHUB_PULL_REQUESTS,
    GITHUB_REPOSITORY,
)
from sources.interface.lakeflow_connect import LakeflowConnect

GITHUB_DEFAULT_BASE_URL = "https://api.github.com"
GITHUB_PAGE_SIZE = 100  # the API's maximum per_page

GITHUB_SCHEMAS = {
    "issues": GITHUB_ISSUES,
    "pull_requests": GITHUB_PULL_REQUESTS,
    "commits": GITHUB_COMMITS,
    "issue_comments": GITHUB_ISSUE_COMMENTS,
    "repository": GITHUB_REPOSITORY,
    "contributors": GITHUB_CONTRIBUTORS,
}
GITHUB_METADATA: dict[str, dict[str, Any]] = {
    "issues": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
    "pull_requests": {
        "primary_keys": ["id"],
        "cursor_field": "updated_at",
        "ingestion_type": "cdc",
    },
    "commits": {
        "primary_keys": ["sha"],
        "cursor_field": "committed_at",
        "ingestion_type": "append",
    },
    "issue_comments": {
        "primary_keys": ["id"],
        "cursor_field": "updated_at",
        "ingestion_type": "cdc",
    },
    "repository": {"primary_keys": ["id"], "ingestion_type": "snapshot"},
    "contributors": {
        "primary_keys": ["repository_owner", "repository_name", "id"],
        "ingestion_type": "snapshot",
    },
}


def github_project(value: Any, data_type: DataType) -> Any:
    """Keep exactly the schema's fields of an API value (missing ones become None)."""
    if value is None:
        return None
    if isinstance(data_type, StructType):
        if not isinstance(value, dict):
            return None
        return {f.name: github_project(value.get(f.name), f.dataType) for f in data_type.fields}
    if isinstance(data_type, ArrayType):
        if not isinstance(value, list):
            return None
        return [github_project(item, data_type.elementType) for item in value]
    return value


class GithubLakeflowConnect(FixedTables, ProcessLocal, LakeflowConnect):
    """Connection options: `token` (secret), `base_url`. Table options: `owner`, `repo`,
    optional `start_date` (first read of incremental tables starts there)."""

    service, schemas, metadata = "github", GITHUB_SCHEMAS, GITHUB_METADATA

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        require_options("github", options, "token")  # a personal access token
        self._token = options["token"].strip()
        self.base_url = (options.get("base_url") or GITHUB_DEFAULT_BASE_URL).strip().rstrip("/")
        if urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"github: base_url must be an http(s) URL, got {self.base_url!r}")
        # A primary rate-limit window is an hour; allow waiting out the whole of one.
        self.retry_policy = RetryPolicy(service="github", max_sleep=3660)

    # ----- interface ---------------------------------------------------------------------------

    def read_table(
        self, table_name: str, start_offset: dict | None, table_options: dict[str, str]
    ) -> tuple[Iterator[dict], dict]:
        require_table(self.service, table_name, self.schemas)
        owner, repo = self._repo(table_options)
        reader = getattr(self, f"_read_{table_name}")
        records, offset = reader(owner, repo, start_offset, table_options)
        extra = {"repository_owner": owner, "repository_name": repo}
        schema = GITHUB_SCHEMAS[table_name]
        rows = [github_project({**record, **extra}, schema) for record in records]
        return iter(rows), offset

    # ----- tables ------------------------------------------------------------------------------

    def _read_issues(self, owner, repo, start_offset, table_options):
        cursor = self._cursor(start_offset, table_options)
        params = {"state": "all", "sort": "updated", "direction": "asc"}
        if cursor:
            params["since"] = cursor
        records = []
        for item in self._pages(f"/repos/{owner}/{repo}/issues", params):
            # The issues endpoint also lists pull requests; they have their own table.
            if "pull_request" in item:
                continue
            if cursor is None or item["updated_at"] > cursor:
                records.append(item)
        return records, self._next_offset(start_offset, records, "updated_at")

    def _read_pull_requests(self, owner, repo, start_offset, table_options):
        # The pulls endpoint has no `since`: read newest-updated first and stop at the cursor.
        cursor = self._cursor(start_offset, table_options)
        params = {"state": "all", "sort": "updated", "direction": "desc"}
        records = []
        for item in self._pages(f"/repos/{owner}/{repo}/pulls", params):
            if cursor is not None and item["updated_at"] <= cursor:
                break
            records.append(item)
        records.reverse()
        return records, self._next_offset(start_offset, records, "updated_at")

    def _read_commits(self, owner, repo, start_offset, table_options):
        cursor = self._cursor(start_offset, table_options)
        params = {"since": cursor} if cursor else {}
        records = []
        for item in self._pages(f"/repos/{owner}/{repo}/commits", params):
            committed_at = ((item.get("commit") or {}).get("committer") or {}).get("date")
            if not committed_at or (cursor is not None and committed_at <= cursor):
                continue
            records.append({**item, "committed_at": committed_at})
        records.sort(key=lambda r: (r["committed_at"], r["sha"]))
        return records, self._next_offset(start_offset, records, "committed_at")

    def _read_issue_comments(self, owner, repo, start_offset, table_options):
        cursor = self._cursor(start_offset, table_options)
        params = {"sort": "updated", "direction": "asc"}
        if cursor:
            params["since"] = cursor
        records = []
        for item in self._pages(f"/repos/{owner}/{repo}/issues/comments", params):
            if cursor is None or item["updated_at"] > cursor:
                issue_url = item.get("issue_url") or ""
                number = issue_url.rsplit("/", 1)[-1]
                records.append({**item, "issue_number": int(number) if number.isdigit() else None})
        return records, self._next_offset(start_offset, records, "updated_at")

    def _read_repository(self, owner, repo, start_offset, table_options):
        if start_offset:
            return [], start_offset
        response = self._get(f"{self.base_url}/repos/{owner}/{repo}")
        return [response.json()], {"snapshot": "complete"}

    def _read_contributors(self, owner, repo, start_offset, table_options):
        if start_offset:
            return [], start_offset
        return list(self._pages(f"/repos/{owner}/{repo}/contributors", {})), {
            "snapshot": "complete"
        }

    # ----- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _repo(table_options: dict[str, str]) -> tuple[str, str]:
        owner = (table_options.get("owner") or "").strip()
        repo = (table_options.get("repo") or "").strip()
        missing = [name for name, value in (("owner", owner), ("repo", repo)) if not value]
        if missing:
            raise ValueError(f"github: table option(s) {', '.join(missing)} required")
        return owner, repo

    @staticmethod
    def _cursor(start_offset: dict | None, table_options: dict[str, str]) -> str | None:
        if start_offset and start_offset.get("cursor"):
            return start_offset["cursor"]
        start_date = (table_options.get("start_date") or "").strip()
        return utc_text("github", "start_date", start_date) if start_date else None

    @staticmethod
    def _next_offset(start_offset: dict | None, records: list[dict], field: str) -> dict:
        if not records:
            return dict(start_offset) if start_offset else {}
        return {"cursor": max(r[field] for r in records)}

    def new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers.update(
            {
                "Authorization": f"Bearer {self._token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "lakeflow-community-connectors-github",
            }
        )
        return session

    def _get(self, url: str, params: dict | None = None) -> requests.Response:
        return request_with_retry(
            self.session(), "GET", url, policy=self.retry_policy, params=params
        )

    def _pages(self, path: str, params: dict[str, str]) -> Iterator[dict]:
        """Items of every page, following Link rel="next" (it carries the query itself)."""
        url: str | None = f"{self.base_url}{path}"
        query: dict | None = {**params, "per_page": GITHUB_PAGE_SIZE}
        origin = urlsplit(self.base_url)[:2]
        while url:
            response = self._get(url, query)
            yield from response.json()
            url = response.links.get("next", {}).get("url")
            query = None
            # Never send the token anywhere but the configured API host.
            if url and urlsplit(url)[:2] != origin:
                raise ValueError(f"github: next page link leaves {self.base_url}: {url}")
