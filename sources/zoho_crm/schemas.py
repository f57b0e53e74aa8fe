"""Zoho CRM modules and their fields, discovered from the settings API, as Spark schemas."""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from sources.zoho_crm.client import ZohoClient

ZOHO_TYPES: dict[str, DataType] = {
    "integer": LongType(),
    "bigint": LongType(),
    "double": DoubleType(),
    "currency": DoubleType(),
    "decimal": DoubleType(),
    "percent": DoubleType(),
    "boolean": BooleanType(),
    "datetime": TimestampType(),
    "date": DateType(),
    "multiselectpicklist": ArrayType(StringType()),
}
ZOHO_REQUIRED_FIELDS = {"id": StringType(), "Modified_Time": TimestampType()}


def zoho_modules(client: ZohoClient) -> list[str]:
    """Modules the API can read (api_supported), in the order the account lists them."""
    modules = client.get("/crm/v6/settings/modules").get("modules") or []
    return [m["api_name"] for m in modules if m.get("api_supported")]


def zoho_fields(client: ZohoClient, module: str) -> list[dict]:
    return client.get("/crm/v6/settings/fields", {"module": module}).get("fields") or []


def zoho_schema(fields: list[dict]) -> StructType:
    columns = [
        StructField("id", StringType(), False),
        StructField("Modified_Time", TimestampType(), False),
    ]
    for field in sorted(fields, key=lambda f: f["api_name"]):
        if field["api_name"] in ZOHO_REQUIRED_FIELDS:
            continue
        columns.append(
            StructField(field["api_name"], ZOHO_TYPES.get(field.get("data_type"), StringType()))
        )
    return StructType(columns)


def zoho_value(value, data_type: DataType):
    """Lookups arrive as {"id": ..., "name": ...}: keep the id."""
    if isinstance(value, dict) and isinstance(data_type, StringType):
        return value.get("id")
    return value
