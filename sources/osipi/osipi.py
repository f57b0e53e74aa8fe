"""OSI PI connector (PI Web API): data servers, points and recorded values.

Authenticates with OAuth2 client credentials against a token endpoint; the access token is cached
and fetched again shortly before it expires (or once more if the server refuses it). Recorded
values are an append stream per point: each read asks for values after the point's last
timestamp (`startTime`, optional `endTime`), at most `max_count` per request.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from pyspark.sql.types import (
    BooleanType,
    DoubleType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from libs.connector_base import FixedTables, ProcessLocal, require_options, require_table
from libs.http_retry import ConnectorAuthError, RetryPolicy, request_with_retry
from libs.utils import utc_from_iso
from sources.interface.lakeflow_connect import LakeflowConnect

PI_TOKEN_MARGIN_SECONDS = 60  # refresh this long before the token expires
PI_DEFAULT_MAX_COUNT = 1000
PI_SCHEMAS = {
    "dataservers": StructType(
        [StructField("WebId", StringType(), False), StructField("Id", StringType()),
         StructField("Name", StringType()), StructField("Path", StringType()),
         StructField("IsConnected", BooleanType()), StructField("ServerVersion", StringType())]
    ),
    "points": StructType(
        [StructField("WebId", StringType(), False), StructField("Id", StringType()),
         StructField("Name", StringType()), StructField("Path", StringType()),
         StructField("PointClass", StringType()), StructField("PointType", StringType()),
         StructField("EngineeringUnits", StringType()), StructField("Descriptor", StringType()),
         StructField("DataServerWebId", StringType())]
    ),
    "recorded_values": StructType(
        [StructField("point_web_id", StringType(), False), StructField("point_name", StringType()),
         StructField("timestamp", TimestampType(), False), StructField("value", DoubleType()),
         StructField("value_string", StringType()), StructField("units", StringType()),
         StructField("good", BooleanType()), StructField("questionable", BooleanType()),
         StructField("substituted", BooleanType())]
    ),
}  # fmt: skip
PI_METADATA = {
    "dataservers": {"primary_keys": ["WebId"], "ingestion_type": "snapshot"},
    "points": {"primary_keys": ["WebId"], "ingestion_type": "snapshot"},
    "recorded_values": {
        "primary_keys": ["point_web_id", "timestamp"],
        "cursor_field": "timestamp",
        "ingestion_type": "append",
    },
}


def pi_value(raw) -> tuple[float | None, str | None]:
    """PI values are numbers, or digital states given as {"Name": ..., "Value": ...}."""
    if isinstance(raw, bool):
        return float(raw), None
    if isinstance(raw, (int, float)):
        return float(raw), None
    if isinstance(raw, dict):
        return (
            float(raw["Value"]) if isinstance(raw.get("Value"), (int, float)) else None
        ), raw.get("Name")
    return None, None if raw is None else str(raw)


def pi_after(timestamp: str) -> datetime:
    return utc_from_iso(timestamp)


class OsipiLakeflowConnect(FixedTables, ProcessLocal, LakeflowConnect):
    """Connection options: `base_url` (…/piwebapi), `token_url`, `client_id`, `client_secret`
    (secret), optional `scope`. Table options: `name_filter` (points by name, PI wildcards),
    `start_time`, `end_time` (PI time strings or ISO), `max_count`."""

    service, schemas, metadata = "osipi", PI_SCHEMAS, PI_METADATA
    # The access token is per process too: a worker fetches its own.
    process_local = {"_session": None, "_token": None, "_token_expires": 0.0}

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        require_options("osipi", options, "base_url", "token_url", "client_id", "client_secret")
        self.base_url = options["base_url"].rstrip("/")
        self.retry_policy = RetryPolicy(service="osipi", max_sleep=600)
        self._token: str | None = None
        self._token_expires = 0.0

    # -- OAuth client credentials -------------------------------------------------------------
    def _access_token(self) -> str:
        if (
            self._token
            and self.retry_policy.clock() < self._token_expires - PI_TOKEN_MARGIN_SECONDS
        ):
            return self._token
        form = {"grant_type": "client_credentials", "client_id": self.options["client_id"],
                "client_secret": self.options["client_secret"]}  # fmt: skip
        if self.options.get("scope"):
            form["scope"] = self.options["scope"]
        response = request_with_retry(
            None, "POST", self.options["token_url"], policy=self.retry_policy, data=form
        )
        body = response.json()
        self._token = body["access_token"]
        self._token_expires = self.retry_policy.clock() + float(body.get("expires_in", 3600))
        return self._token

    def _get(self, path: str, params: dict | None = None) -> dict:
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._access_token()}"}
            try:
                response = request_with_retry(
                    self.session(), "GET", f"{self.base_url}{path}", policy=self.retry_policy,
                    params=params, headers=headers,
                )  # fmt: skip
                return response.json()
            except ConnectorAuthError as error:
                if attempt == 2 or error.status != 401:
                    raise
                self._token = None  # revoked or expired early: fetch a new one once

    # -- interface ----------------------------------------------------------------------------

    def _dataservers(self) -> list[dict]:
        return self._get("/dataservers").get("Items") or []

    def _points(self, table_options) -> list[dict]:
        max_count = int(table_options.get("max_count", PI_DEFAULT_MAX_COUNT))
        points = []
        for server in self._dataservers():
            start = 0
            while True:
                params = {"nameFilter": table_options.get("name_filter", "*"), "startIndex": start,
                          "maxCount": max_count}  # fmt: skip
                items = (
                    self._get(f"/dataservers/{quote(server['WebId'])}/points", params).get("Items")
                    or []
                )
                points += [{**p, "DataServerWebId": server["WebId"]} for p in items]
                if len(items) < max_count:
                    break
                start += max_count
        return points

    def read_table(self, table_name, start_offset, table_options):
        require_table(self.service, table_name, self.schemas)
        if table_name in ("dataservers", "points"):
            if start_offset:
                return iter([]), start_offset  # a snapshot is read whole, once
            items = (
                self._dataservers() if table_name == "dataservers" else self._points(table_options)
            )
            names = PI_SCHEMAS[table_name].fieldNames()
            return iter([{n: item.get(n) for n in names} for item in items]), {
                "snapshot": "complete"
            }
        return self._read_recorded(start_offset, table_options)

    def _read_recorded(self, start_offset, table_options):
        """One request per point: values after its last timestamp, at most max_count."""
        positions = dict((start_offset or {}).get("points", {}))
        max_count = int(table_options.get("max_count", PI_DEFAULT_MAX_COUNT))
        records = []
        for point in self._points(table_options):
            web_id, last = point["WebId"], positions.get(point["WebId"])
            params = {"startTime": last or table_options.get("start_time", "*-30d"),
                      "endTime": table_options.get("end_time", "*"), "maxCount": max_count}  # fmt: skip
            items = self._get(f"/streams/{quote(web_id)}/recorded", params).get("Items") or []
            # PI includes a value stamped exactly at startTime: it was read last time.
            fresh = [i for i in items if last is None or pi_after(i["Timestamp"]) > pi_after(last)]
            for item in fresh:
                value, text = pi_value(item.get("Value"))
                records.append({
                    "point_web_id": web_id, "point_name": point.get("Name"),
                    "timestamp": item["Timestamp"], "value": value, "value_string": text,
                    "units": item.get("UnitsAbbreviation"), "good": item.get("Good"),
                    "questionable": item.get("Questionable"), "substituted": item.get("Substituted"),
                })  # fmt: skip
            if fresh:
                positions[web_id] = fresh[-1]["Timestamp"]
        if not records:
            return iter([]), dict(start_offset or {})
        return iter(records), {"points": positions}
