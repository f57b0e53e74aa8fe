"""The connector interface every source implements.

A connector is constructed with the connection's options (all strings) and answers four questions:
which tables exist, what each table's schema is, how each table is ingested, and what records lie
between two offsets. Records are plain JSON-like dicts; turning them into Spark rows is the shared
runtime's job (libs/utils.py), not the connector's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

from pyspark.sql.types import StructType

INGESTION_TYPES = ("snapshot", "cdc", "cdc_with_deletes", "append")


class LakeflowConnect(ABC):
    """Base class of every connector. `sources/<name>/<name>.py` defines exactly one subclass."""

    def __init__(self, options: dict[str, str]) -> None:
        self.options = dict(options)

    @abstractmethod
    def list_tables(self) -> list[str]:
        """Names of the tables this connector can read."""

    @abstractmethod
    def get_table_schema(self, table_name: str, table_options: dict[str, str]) -> StructType:
        """The Spark schema of `table_name`. Unknown tables raise ValueError."""

    @abstractmethod
    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict[str, Any]:
        """`{"primary_keys": [...], "cursor_field": str, "ingestion_type": one of INGESTION_TYPES}`.

        primary_keys may be omitted for append tables and cursor_field for snapshot tables; every
        field named must exist in the table's schema.
        """

    @abstractmethod
    def read_table(
        self, table_name: str, start_offset: dict | None, table_options: dict[str, str]
    ) -> tuple[Iterator[dict], dict]:
        """Records after `start_offset` and the offset to resume from.

        Called repeatedly; the table is fully read when the returned offset equals `start_offset`.
        """

    def read_table_deletes(
        self, table_name: str, start_offset: dict | None, table_options: dict[str, str]
    ) -> tuple[Iterator[dict], dict]:
        """Deleted records (at least primary keys and cursor) after `start_offset`.

        Required for cdc_with_deletes tables; same offset contract as read_table.
        """
        raise NotImplementedError(f"{type(self).__name__} does not read deletes of {table_name!r}")


def read_to_fixed_point(
    connector: LakeflowConnect,
    table_name: str,
    start_offset: dict | None = None,
    table_options: dict[str, str] | None = None,
    *,
    deletes: bool = False,
    max_calls: int = 1000,
) -> tuple[list[dict], dict | None]:
    """Every record after `start_offset` (or every delete) and the final offset: read_table (or
    read_table_deletes) called until the offset it returns equals the one it was given."""
    read = connector.read_table_deletes if deletes else connector.read_table
    offset, records = start_offset, []
    for _ in range(max_calls):
        batch, end = read(table_name, offset, dict(table_options or {}))
        records += list(batch)
        if end == offset:
            return records, end
        offset = end
    raise RuntimeError(f"{table_name}: the offset still moved after {max_calls} reads")
