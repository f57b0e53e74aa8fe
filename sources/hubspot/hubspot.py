"""HubSpot CRM connector: contacts, companies, deals and tickets (CRM v3), with archived as deletes.

The schema of each object is built from its properties endpoint, so a portal's custom properties
become columns. Changes are read with the search endpoint filtered on `hs_lastmodifieddate`
(ascending, paging with `after`). The search API refuses to page past 10,000 results, so instead of
paging on, the connector moves its window: it searches again from the last modified time it saw,
skipping the records of that instant it already read. Archived objects are read as deletes.
"""

from __future__ import annotations

from typing import Any

import requests
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from libs.connector_base import ProcessLocal, require_options, require_table
from libs.http_retry import RetryPolicy, request_with_retry
from libs.utils import utc_from_iso
from sources.interface.lakeflow_connect import LakeflowConnect

HUBSPOT_OBJECTS = ("contacts", "companies", "deals", "tickets")
HUBSPOT_SEARCH_LIMIT = 200  # the search endpoint's page maximum
HUBSPOT_SEARCH_CAP = 10_000  # results one search query can page through
HUBSPOT_BASE_COLUMNS = [
    StructField("id", StringType(), False),
    StructField("createdAt", TimestampType()),
    StructField("updatedAt", TimestampType(), False),
    StructField("archived", BooleanType()),
    StructField("archivedAt", TimestampType()),
]
HUBSPOT_TYPES: dict[str, DataType] = {
    "number": DoubleType(),
    "datetime": TimestampType(),
    "date": DateType(),
    "bool": BooleanType(),
}


def hubspot_millis(value: str) -> int:
    return int(utc_from_iso(value).timestamp() * 1000)


def hubspot_flatten(item: dict) -> dict:
    """A CRM object as one flat record: its own fields plus its properties."""
    base = {k: item.get(k) for k in ("id", "createdAt", "updatedAt", "archived", "archivedAt")}
    return {**(item.get("properties") or {}), **base}


class HubspotLakeflowConnect(ProcessLocal, LakeflowConnect):
    """Connection options: `access_token` (a private app token, secret), optional `base_url`.
    Table options: `page_size` (at most 200) and `search_cap`, which lowers the 10,000 result
    window (tests use both)."""

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        require_options("hubspot", options, "access_token")
        self._token = options["access_token"]
        self.base_url = (options.get("base_url") or "https://api.hubapi.com").rstrip("/")
        self.retry_policy = RetryPolicy(service="hubspot", max_sleep=600)
        self._properties: dict[str, list[dict]] = {}

    def new_session(self) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self._token}"
        return session

    def _request(self, method: str, path: str, **kwargs) -> dict:
        response = request_with_retry(
            self.session(), method, f"{self.base_url}{path}", policy=self.retry_policy, **kwargs
        )
        return response.json()

    def list_tables(self) -> list[str]:
        return list(HUBSPOT_OBJECTS)

    def properties(self, table_name: str) -> list[dict]:
        require_table("hubspot", table_name, HUBSPOT_OBJECTS)
        if table_name not in self._properties:
            results = self._request("GET", f"/crm/v3/properties/{table_name}")["results"]
            self._properties[table_name] = sorted(results, key=lambda p: p["name"])
        return self._properties[table_name]

    def get_table_schema(self, table_name, table_options):
        base_names = {f.name for f in HUBSPOT_BASE_COLUMNS}
        columns = [
            StructField(p["name"], HUBSPOT_TYPES.get(p.get("type"), StringType()))
            for p in self.properties(table_name)
            if p["name"] not in base_names
        ]
        return StructType(HUBSPOT_BASE_COLUMNS + columns)

    def read_table_metadata(self, table_name, table_options):
        require_table("hubspot", table_name, HUBSPOT_OBJECTS)
        return {
            "primary_keys": ["id"],
            "cursor_field": "updatedAt",
            "ingestion_type": "cdc_with_deletes",
        }

    def _cap(self, table_options) -> int:
        return int(table_options.get("search_cap", HUBSPOT_SEARCH_CAP))

    def read_table(self, table_name, start_offset, table_options):
        """One search page per call. Offset: the window start (`cursor`, ms), the position in
        it (`after`) and the ids already read at the window start (`seen`)."""
        require_table("hubspot", table_name, HUBSPOT_OBJECTS)
        offset = dict(start_offset or {})
        cursor, after, seen = (
            offset.get("cursor", 0),
            offset.get("after"),
            set(offset.get("seen", [])),
        )
        body = {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": "hs_lastmodifieddate",
                            "operator": "GTE",
                            "value": str(cursor),
                        }
                    ]
                }
            ],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": [p["name"] for p in self.properties(table_name)],
            "limit": min(
                int(table_options.get("page_size", HUBSPOT_SEARCH_LIMIT)),
                HUBSPOT_SEARCH_LIMIT,
                self._cap(table_options),
            ),
        }
        if after:
            body["after"] = after
        page = self._request("POST", f"/crm/v3/objects/{table_name}/search", json=body)
        items = [
            hubspot_flatten(item)
            for item in page.get("results") or []
            if not (hubspot_millis(item["updatedAt"]) == cursor and item["id"] in seen)
        ]
        next_after = ((page.get("paging") or {}).get("next") or {}).get("after")
        if next_after and int(next_after) + body["limit"] <= self._cap(table_options):
            return iter(items), {"cursor": cursor, "after": next_after, "seen": sorted(seen)}
        if not items:
            return iter([]), dict(start_offset or {})  # nothing new: the offset stays put
        # End of the results, or of what one search may page through: a new window from the
        # last modified time read, remembering the ids read at that instant.
        last = max(hubspot_millis(i["updatedAt"]) for i in items)
        at_last = {i["id"] for i in items if hubspot_millis(i["updatedAt"]) == last}
        carried = seen if last == cursor else set()
        return iter(items), {"cursor": last, "seen": sorted(at_last | carried)}

    def read_table_deletes(self, table_name, start_offset, table_options):
        """Archived objects newer than the offset's `archived_cursor` (ms), all pages per call."""
        require_table("hubspot", table_name, HUBSPOT_OBJECTS)
        cursor = (start_offset or {}).get("archived_cursor", 0)
        archived, after = [], None
        while True:
            params: dict[str, Any] = {"archived": "true", "limit": 100}
            if after:
                params["after"] = after
            page = self._request("GET", f"/crm/v3/objects/{table_name}", params=params)
            archived += page.get("results") or []
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        new = [hubspot_flatten(a) for a in archived if hubspot_millis(a["archivedAt"]) > cursor]
        if not new:
            return iter([]), dict(start_offset or {})
        new.sort(key=lambda r: (hubspot_millis(r["archivedAt"]), r["id"]))
        deletes = [
            {"id": r["id"], "updatedAt": r["archivedAt"], "archivedAt": r["archivedAt"]}
            for r in new
        ]
        return iter(deletes), {"archived_cursor": hubspot_millis(new[-1]["archivedAt"])}
