"""Zoho CRM connector: every API-readable module, with deletes from the deleted-records endpoint.

Split across modules of this folder (auth → client → schemas → here), which the merge orders by
their imports. Records are read with `If-Modified-Since` and sorted by Modified_Time; the cursor
moves to the last Modified_Time read, remembering the ids read at that instant.
"""

from __future__ import annotations

from datetime import datetime

from libs.connector_base import require_options, require_table
from libs.http_retry import RetryPolicy
from libs.utils import utc_from_iso
from sources.interface.lakeflow_connect import LakeflowConnect
from sources.zoho_crm.auth import ZohoTokenManager
from sources.zoho_crm.client import ZohoClient
from sources.zoho_crm.schemas import zoho_fields, zoho_modules, zoho_schema, zoho_value


def zoho_instant(value: str) -> datetime:
    return utc_from_iso(value)


class ZohoCrmLakeflowConnect(LakeflowConnect):
    """Connection options: `client_id`, `client_secret` (secret), `refresh_token` (secret),
    `accounts_url` (default https://accounts.zoho.com), `api_url` (default
    https://www.zohoapis.com)."""

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        require_options("zoho_crm", options, "client_id", "client_secret", "refresh_token")
        self.retry_policy = RetryPolicy(service="zoho_crm", max_sleep=600)
        tokens = ZohoTokenManager(
            options.get("accounts_url") or "https://accounts.zoho.com",
            options["client_id"],
            options["client_secret"],
            options["refresh_token"],
            self.retry_policy,
        )
        self.client = ZohoClient(
            options.get("api_url") or "https://www.zohoapis.com", tokens, self.retry_policy
        )
        self._modules: list[str] | None = None
        self._fields: dict[str, list[dict]] = {}

    def list_tables(self) -> list[str]:
        if self._modules is None:
            self._modules = zoho_modules(self.client)
        return list(self._modules)

    def _module_fields(self, table_name: str) -> list[dict]:
        require_table("zoho_crm", table_name, self.list_tables())
        if table_name not in self._fields:
            self._fields[table_name] = zoho_fields(self.client, table_name)
        return self._fields[table_name]

    def get_table_schema(self, table_name, table_options):
        return zoho_schema(self._module_fields(table_name))

    def read_table_metadata(self, table_name, table_options):
        require_table("zoho_crm", table_name, self.list_tables())
        return {
            "primary_keys": ["id"],
            "cursor_field": "Modified_Time",
            "ingestion_type": "cdc_with_deletes",
        }

    def read_table(self, table_name, start_offset, table_options):
        """One page per call. Offset: `cursor` (If-Modified-Since), `page` mid-window, `seen`."""
        schema = self.get_table_schema(table_name, table_options)
        offset = dict(start_offset or {})
        cursor, seen = offset.get("cursor"), set(offset.get("seen", []))
        params = {
            "fields": ",".join(schema.fieldNames()[1:]),
            "sort_by": "Modified_Time",
            "sort_order": "asc",
        }
        headers = {"If-Modified-Since": cursor} if cursor else {}
        page, items, more = next(
            self.client.pages(f"/crm/v6/{table_name}", params, headers, offset.get("page", 1))
        )
        records = [
            {f.name: zoho_value(item.get(f.name), f.dataType) for f in schema.fields}
            for item in items
            if not (cursor and item["Modified_Time"] == cursor and item["id"] in seen)
        ]
        if more:
            return iter(records), {**offset, "page": page + 1}
        if not records:
            return iter([]), dict(start_offset or {})
        last = max(records, key=lambda r: zoho_instant(r["Modified_Time"]))["Modified_Time"]
        at_last = {r["id"] for r in records if r["Modified_Time"] == last}
        return iter(records), {
            "cursor": last,
            "seen": sorted(at_last | (seen if last == cursor else set())),
        }

    def read_table_deletes(self, table_name, start_offset, table_options):
        require_table("zoho_crm", table_name, self.list_tables())
        cursor = (start_offset or {}).get("deleted_cursor")
        deleted = []
        for _, items, _ in self.client.pages(f"/crm/v6/{table_name}/deleted", {"type": "all"}):
            deleted += items
        new = [
            d
            for d in deleted
            if cursor is None or zoho_instant(d["deleted_time"]) > zoho_instant(cursor)
        ]
        if not new:
            return iter([]), dict(start_offset or {})
        new.sort(key=lambda d: (zoho_instant(d["deleted_time"]), d["id"]))
        records = [{"id": d["id"], "Modified_Time": d["deleted_time"]} for d in new]
        return iter(records), {"deleted_cursor": new[-1]["deleted_time"]}
