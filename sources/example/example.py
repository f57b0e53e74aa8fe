"""The example connector: one table of each ingestion type over an in-process simulated source.

It is the smallest complete connector, the template to copy, and what `doit deploy:example` ships.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from libs.connector_base import FixedTables, require_options, require_table
from sources.example.simulated_source import SimulatedStore, example_store
from sources.interface.lakeflow_connect import LakeflowConnect

EXAMPLE_SCHEMAS = {
    "products": StructType(
        [
            StructField("id", LongType(), False),
            StructField("name", StringType()),
            StructField("price", DecimalType(10, 2)),
            StructField("tags", ArrayType(StringType())),
            StructField("attributes", MapType(StringType(), StringType())),
        ]
    ),
    "customers": StructType(
        [
            StructField("id", LongType(), False),
            StructField("name", StringType()),
            StructField("email", StringType()),
            StructField(
                "address",
                StructType([StructField("city", StringType()), StructField("zip", StringType())]),
            ),
            StructField("active", BooleanType()),
            StructField("updated_at", TimestampType(), False),
        ]
    ),
    "orders": StructType(
        [
            StructField("id", LongType(), False),
            StructField("customer_id", LongType()),
            StructField("amount", DecimalType(12, 2)),
            StructField("status", StringType()),
            StructField("placed_on", DateType()),
            StructField("updated_at", TimestampType()),
            StructField("deleted_at", TimestampType()),
        ]
    ),
    "events": StructType(
        [
            StructField("event_id", LongType(), False),
            StructField("kind", StringType()),
            StructField("payload", BinaryType()),
            StructField("occurred_at", TimestampType()),
        ]
    ),
}
EXAMPLE_METADATA = {
    "products": {"primary_keys": ["id"], "ingestion_type": "snapshot"},
    "customers": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
    "orders": {
        "primary_keys": ["id"],
        "cursor_field": "updated_at",
        "ingestion_type": "cdc_with_deletes",
    },
    "events": {"cursor_field": "event_id", "ingestion_type": "append"},
}
EXAMPLE_DEFAULT_PAGE_SIZE = 10


class ExampleLakeflowConnect(FixedTables, LakeflowConnect):
    service, schemas, metadata = "example", EXAMPLE_SCHEMAS, EXAMPLE_METADATA

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        require_options("example", options, "api_key")
        try:
            seed = int(options.get("seed", "42"))
            changes = int(options.get("changes", "0"))
        except ValueError:
            raise ValueError("example: seed and changes must be integers") from None
        self.store: SimulatedStore = example_store(seed, options.get("source_id", ""), changes)

    @staticmethod
    def _page_size(table_options) -> int:
        size = int(table_options.get("page_size", EXAMPLE_DEFAULT_PAGE_SIZE))
        if size < 1:
            raise ValueError(f"example: page_size must be positive, got {size}")
        return size

    @staticmethod
    def _after(records, start_offset, cursor: str, page_size: int):
        """The next page of records ordered by (cursor, id) after the offset's position."""
        position = (start_offset or {}).get(cursor, ""), (start_offset or {}).get("id", 0)
        ordered = sorted(records, key=lambda r: (r[cursor], r["id"]))
        page = [r for r in ordered if (r[cursor], r["id"]) > position][:page_size]
        if not page:
            return iter([]), start_offset or {}
        last = page[-1]
        return iter([dict(r) for r in page]), {cursor: last[cursor], "id": last["id"]}

    def read_table(self, table_name, start_offset, table_options):
        require_table(self.service, table_name, self.schemas)
        page_size = self._page_size(table_options)
        store = self.store
        if table_name == "products":
            # A snapshot: the whole table, once per version of the data.
            version = {"version": store.snapshot_version}
            if start_offset == version:
                return iter([]), version
            return iter([dict(p) for p in store.products]), version
        if table_name == "customers":
            return self._after(store.customers.values(), start_offset, "updated_at", page_size)
        if table_name == "orders":
            return self._after(store.orders.values(), start_offset, "updated_at", page_size)
        after = (start_offset or {}).get("event_id", 0)
        page = [dict(e) for e in store.events if e["event_id"] > after][:page_size]
        return iter(page), ({"event_id": page[-1]["event_id"]} if page else start_offset or {})

    def read_table_deletes(self, table_name, start_offset, table_options):
        require_table(self.service, table_name, self.schemas)
        if EXAMPLE_METADATA[table_name]["ingestion_type"] != "cdc_with_deletes":
            raise ValueError(f"example: table {table_name!r} has no deletes")
        tombstones = [
            {"id": t["id"], "deleted_at": t["deleted_at"], "updated_at": t["deleted_at"]}
            for t in self.store.deleted_orders
        ]
        return self._after(tombstones, start_offset, "updated_at", self._page_size(table_options))
