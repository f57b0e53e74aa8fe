"""SAP SuccessFactors connector: OData v2 entities (User, EmpJob, PerPerson), incrementally.

Reads `{api_url}/odata/v2/<Entity>?$format=json`, filtered on
`lastModifiedDateTime gt datetimeoffset'…'` and ordered by it, following the server's `__next`
links (`$skiptoken` paging). OData v2 dates arrive as `/Date(1700000000000)/` or
`/Date(1700000000000+0000)/` and are turned into ISO timestamps. Basic auth
`{username}@{company_id}:{api_key}`; 429s wait out Retry-After through the shared retry helper.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import requests
from pyspark.sql.types import (
    BooleanType,
    DateType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from libs.connector_base import (
    FixedTables,
    ProcessLocal,
    require_options,
    require_table,
    utc_text,
)
from libs.http_retry import RetryPolicy, request_with_retry
from sources.interface.lakeflow_connect import LakeflowConnect

SF_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
SF_CURSOR = "lastModifiedDateTime"


def sf_field(name: str, data_type=None, nullable: bool = True) -> StructField:
    return StructField(name, data_type or StringType(), nullable)


SF_SCHEMAS = {
    "User": StructType(
        [sf_field("userId", nullable=False), sf_field("username"), sf_field("firstName"),
         sf_field("lastName"), sf_field("email"), sf_field("status"), sf_field("department"),
         sf_field("hireDate", DateType()), sf_field(SF_CURSOR, TimestampType(), False)]
    ),
    "EmpJob": StructType(
        [sf_field("userId", nullable=False), sf_field("startDate", DateType(), False),
         sf_field("seqNumber", nullable=False), sf_field("jobTitle"), sf_field("company"),
         sf_field("location"), sf_field("isFulltimeEmployee", BooleanType()),
         sf_field(SF_CURSOR, TimestampType(), False)]
    ),
    "PerPerson": StructType(
        [sf_field("personIdExternal", nullable=False), sf_field("dateOfBirth", DateType()),
         sf_field("countryOfBirth"), sf_field(SF_CURSOR, TimestampType(), False)]
    ),
}  # fmt: skip
SF_KEYS = {"User": ["userId"], "EmpJob": ["userId", "startDate", "seqNumber"],
           "PerPerson": ["personIdExternal"]}  # fmt: skip
SF_METADATA = {
    name: {"primary_keys": keys, "cursor_field": SF_CURSOR, "ingestion_type": "cdc"}
    for name, keys in SF_KEYS.items()
}


def sf_parse_value(value):
    """`/Date(ms)/` and `/Date(ms+hhmm)/` as ISO timestamps; other values as they are."""
    if isinstance(value, str):
        match = SF_DATE.match(value)
        if match:
            when = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=timezone.utc)
            if match.group(2):
                sign = 1 if match.group(2)[0] == "+" else -1
                hours, minutes = int(match.group(2)[1:3]), int(match.group(2)[3:])
                # The offset says in which zone the instant is shown; the instant stays UTC.
                when = when.astimezone(timezone(sign * timedelta(hours=hours, minutes=minutes)))
            return when.isoformat()
    return value


class SapSuccessfactorsLakeflowConnect(FixedTables, ProcessLocal, LakeflowConnect):
    """Connection options: `api_url`, `company_id`, `username`, `api_key` (secret).
    Table options: `start_date`, `end_date` (ISO), `entity_type` (read another entity set with the
    table's schema, e.g. a custom MDF object)."""

    service, schemas, metadata = "sap_successfactors", SF_SCHEMAS, SF_METADATA

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        require_options(
            "sap_successfactors", options, "api_url", "company_id", "username", "api_key"
        )
        self.api_url = options["api_url"].rstrip("/")
        self._auth = (f"{options['username']}@{options['company_id']}", options["api_key"])
        self.retry_policy = RetryPolicy(service="sap_successfactors", max_sleep=600)

    def new_session(self) -> requests.Session:
        session = requests.Session()
        session.auth = self._auth
        session.headers["Accept"] = "application/json"
        return session

    def _get(self, url: str, params: dict | None) -> dict:
        response = request_with_retry(
            self.session(), "GET", url, policy=self.retry_policy, params=params
        )
        return response.json()

    def read_table(self, table_name, start_offset, table_options):
        """One OData page per call. Offset: the cursor the query filters on and, mid-query, the
        server's `__next` link."""
        require_table(self.service, table_name, self.schemas)
        offset = dict(start_offset or {})
        if offset.get("next"):
            url, params = offset["next"], None
            if urlsplit(url)[:2] != urlsplit(self.api_url)[:2]:
                raise ValueError(f"sap_successfactors: __next link leaves {self.api_url}: {url}")
        else:
            cursor = offset.get("cursor") or (
                utc_text("sap_successfactors", "start_date", table_options["start_date"])
                if table_options.get("start_date")
                else None
            )
            filters = [f"{SF_CURSOR} gt datetimeoffset'{cursor}'"] if cursor else []
            if table_options.get("end_date"):
                end = utc_text("sap_successfactors", "end_date", table_options["end_date"])
                filters.append(f"{SF_CURSOR} le datetimeoffset'{end}'")
            params = {"$format": "json", "$orderby": f"{SF_CURSOR} asc"}
            if filters:
                params["$filter"] = " and ".join(filters)
            entity_set = table_options.get("entity_type") or table_name
            url = f"{self.api_url}/odata/v2/{entity_set}"
        body = self._get(url, params)["d"]
        names = SF_SCHEMAS[table_name].fieldNames()
        records = [
            {n: sf_parse_value(item.get(n)) for n in names} for item in body.get("results") or []
        ]
        page_max = max(
            (utc_text("sap_successfactors", SF_CURSOR, r[SF_CURSOR]) for r in records), default=None
        )
        seen_max = max(filter(None, [page_max, offset.get("seen_max")]), default=None)
        if body.get("__next"):
            return iter(records), {
                "cursor": offset.get("cursor"),
                "next": body["__next"],
                "seen_max": seen_max,
            }
        if not records and not offset.get("next"):
            return iter([]), dict(start_offset or {})  # nothing new: the offset stays put
        final = seen_max or offset.get("cursor")
        return iter(records), ({"cursor": final} if final else {})
