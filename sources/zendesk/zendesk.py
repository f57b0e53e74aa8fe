"""Zendesk Support connector: tickets (with deletes), users, organizations and ticket comments.

Reads Zendesk's incremental exports, which are built for exactly this: the cursor-based exports
for tickets and users (`start_time` once, then `after_cursor` until `end_of_stream`), and the
time-based exports for organizations and ticket events (comments). A deleted ticket comes through
the ticket export with status "deleted" and is read as a delete. Basic auth
`{email}/token:{api_token}`; 429s wait out Retry-After through the shared retry helper.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import requests
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from libs.connector_base import FixedTables, ProcessLocal, require_options, require_table
from libs.http_retry import RetryPolicy, request_with_retry
from libs.utils import utc_from_iso
from sources.interface.lakeflow_connect import LakeflowConnect

ZENDESK_PAGE_SIZE = 1000  # the cursor exports' maximum per_page
ZENDESK_SCHEMAS = {
    "tickets": StructType(
        [
            StructField("id", LongType(), False),
            StructField("subject", StringType()),
            StructField("description", StringType()),
            StructField("status", StringType()),
            StructField("priority", StringType()),
            StructField("requester_id", LongType()),
            StructField("assignee_id", LongType()),
            StructField("organization_id", LongType()),
            StructField("tags", ArrayType(StringType())),
            StructField("created_at", TimestampType()),
            StructField("updated_at", TimestampType(), False),
        ]
    ),
    "users": StructType(
        [
            StructField("id", LongType(), False),
            StructField("name", StringType()),
            StructField("email", StringType()),
            StructField("role", StringType()),
            StructField("active", BooleanType()),
            StructField("organization_id", LongType()),
            StructField("created_at", TimestampType()),
            StructField("updated_at", TimestampType(), False),
        ]
    ),
    "organizations": StructType(
        [
            StructField("id", LongType(), False),
            StructField("name", StringType()),
            StructField("domain_names", ArrayType(StringType())),
            StructField("created_at", TimestampType()),
            StructField("updated_at", TimestampType(), False),
        ]
    ),
    "ticket_comments": StructType(
        [
            StructField("id", LongType(), False),
            StructField("ticket_id", LongType()),
            StructField("author_id", LongType()),
            StructField("body", StringType()),
            StructField("public", BooleanType()),
            StructField("created_at", TimestampType(), False),
        ]
    ),
}
ZENDESK_METADATA = {
    "tickets": {
        "primary_keys": ["id"],
        "cursor_field": "updated_at",
        "ingestion_type": "cdc_with_deletes",
    },
    "users": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
    "organizations": {
        "primary_keys": ["id"],
        "cursor_field": "updated_at",
        "ingestion_type": "cdc",
    },
    "ticket_comments": {
        "primary_keys": ["id"],
        "cursor_field": "created_at",
        "ingestion_type": "append",
    },
}
# Cursor-based exports: table → (path, key of the records in the response).
ZENDESK_CURSOR_EXPORTS = {
    "tickets": ("/api/v2/incremental/tickets/cursor.json", "tickets"),
    "users": ("/api/v2/incremental/users/cursor.json", "users"),
}


def zendesk_epoch(value: str) -> int:
    return int(utc_from_iso(value).timestamp())


def zendesk_project(record: dict, schema: StructType) -> dict:
    return {name: record.get(name) for name in schema.fieldNames()}


class ZendeskLakeflowConnect(FixedTables, ProcessLocal, LakeflowConnect):
    """Connection options: `subdomain`, `email`, `api_token` (secret), optional `base_url`.
    Table option: `start_time` (epoch seconds) where the first export starts (default 0)."""

    service, schemas, metadata = "zendesk", ZENDESK_SCHEMAS, ZENDESK_METADATA

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        require_options("zendesk", options, "subdomain", "email", "api_token")
        self.base_url = (
            options.get("base_url") or f"https://{options['subdomain']}.zendesk.com"
        ).rstrip("/")
        self._auth = (f"{options['email']}/token", options["api_token"])
        self.retry_policy = RetryPolicy(service="zendesk", max_sleep=600)

    def new_session(self) -> requests.Session:
        session = requests.Session()
        session.auth = self._auth
        return session

    # -- reading ---------------------------------------------------------------------------------
    def _get(self, path: str, params: dict) -> dict:
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        response = request_with_retry(
            self.session(), "GET", url, policy=self.retry_policy, params=params
        )
        return response.json()

    @staticmethod
    def _start_time(table_options) -> int:
        try:
            return int(table_options.get("start_time", "0"))
        except ValueError:
            raise ValueError("zendesk: table option start_time must be epoch seconds") from None

    def _cursor_page(self, table_name, start_offset, table_options) -> tuple[list[dict], dict]:
        """One page of a cursor-based export; the offset is the export's after_cursor."""
        path, key = ZENDESK_CURSOR_EXPORTS[table_name]
        if start_offset and start_offset.get("cursor"):
            params = {"cursor": start_offset["cursor"], "per_page": ZENDESK_PAGE_SIZE}
        else:
            params = {"start_time": self._start_time(table_options), "per_page": ZENDESK_PAGE_SIZE}
        page = self._get(path, params)
        records = page.get(key) or []
        if not records and page.get("end_of_stream"):
            return [], dict(start_offset or {})  # nothing new: the offset stays put
        return records, {"cursor": page["after_cursor"]}

    def _time_page(self, path, key, time_field, start_offset, table_options, params=None):
        """One page of a time-based export. Zendesk includes items at `start_time` again, so the
        offset remembers the ids already read in that last second and skips them."""
        start = (start_offset or {}).get("start_time", self._start_time(table_options))
        seen = set((start_offset or {}).get("seen", []))
        page = self._get(path, {"start_time": start, **(params or {})})
        items = [
            item
            for item in page.get(key) or []
            if not (zendesk_epoch(item[time_field]) == start and item["id"] in seen)
        ]
        if not items:
            return [], dict(start_offset or {})
        end = int(page.get("end_time") or max(zendesk_epoch(i[time_field]) for i in items))
        at_end = {i["id"] for i in items if zendesk_epoch(i[time_field]) == end}
        return items, {
            "start_time": end,
            "seen": sorted(at_end | (seen if end == start else set())),
        }

    def read_table(self, table_name, start_offset, table_options):
        require_table(self.service, table_name, self.schemas)
        schema = ZENDESK_SCHEMAS[table_name]
        if table_name in ZENDESK_CURSOR_EXPORTS:
            records, offset = self._cursor_page(table_name, start_offset, table_options)
            if table_name == "tickets":
                records = [r for r in records if r.get("status") != "deleted"]
        elif table_name == "organizations":
            records, offset = self._time_page(
                "/api/v2/incremental/organizations.json",
                "organizations",
                "updated_at",
                start_offset,
                table_options,
            )
        else:
            events, offset = self._time_page(
                "/api/v2/incremental/ticket_events.json",
                "ticket_events",
                "created_at",
                start_offset,
                table_options,
                {"include": "comment_events"},
            )
            records = [
                {**child, "ticket_id": event["ticket_id"], "created_at": event["created_at"]}
                for event in events
                for child in event.get("child_events") or []
                if child.get("event_type") == "Comment"
            ]
        return iter([zendesk_project(r, schema) for r in records]), offset

    def read_table_deletes(
        self, table_name, start_offset, table_options
    ) -> tuple[Iterator[dict], Any]:
        require_table(self.service, table_name, self.schemas)
        if table_name != "tickets":
            raise ValueError(f"zendesk: table {table_name!r} has no deletes")
        records, offset = self._cursor_page(table_name, start_offset, table_options)
        deleted = [
            {"id": r["id"], "updated_at": r["updated_at"]}
            for r in records
            if r.get("status") == "deleted"
        ]
        return iter(deleted), offset
