"""The `lakeflow_connect` PySpark data source, bound to one connector class at registration.

Options: `tableName` picks the table; the special table `_lakeflow_metadata` (with `tableNameList`
and `tableConfigs`) returns one metadata row per table; `isDeleteFlow=true` reads deletes. Every
option reaches the connector's constructor; all but the reserved ones are its table_options.
Spark lower-cases option names, so options are normalised to lower case here for every caller,
and connector option names are lower-case by convention.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    InputPartition,
    SimpleDataSourceStreamReader,
)
from pyspark.sql.streaming.datasource import SupportsTriggerAvailableNow
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from libs.spec_parser import parse_primary_keys
from libs.utils import record_to_row

LAKEFLOW_FORMAT = "lakeflow_connect"
METADATA_TABLE = "_lakeflow_metadata"
RESERVED_OPTIONS = frozenset(
    {
        "tablename",
        "tablenamelist",
        "tableconfigs",
        "isdeleteflow",
        "databricks.connection",
        "sourcename",
        "externaloptionsallowlist",
    }
)
METADATA_SCHEMA = StructType(
    [
        StructField("tableName", StringType(), False),
        StructField("primary_keys", ArrayType(StringType()), True),
        StructField("cursor_field", StringType(), True),
        StructField("ingestion_type", StringType(), False),
    ]
)
# A connector whose offsets never settle would hang a batch read; this bounds it loudly.
MAX_READ_CALLS = 10_000


class LakeflowReadError(RuntimeError):
    """A connector failed inside Spark: says which connector and table, and what it raised."""


def normalize_options(options) -> dict[str, str]:
    return {str(key).lower(): value for key, value in dict(options).items()}


def _table_options(options: dict) -> dict[str, str]:
    return {k: v for k, v in options.items() if k not in RESERVED_OPTIONS}


def _is_true(value) -> bool:
    return str(value).strip().lower() == "true"


class LakeflowTableReader:
    """Reads one table (or its deletes) through the connector; shared by batch and stream."""

    def __init__(self, connector_class, options: dict, schema: StructType):
        self.connector_class = connector_class
        self.options = normalize_options(options)
        self.schema = schema
        self.table_name = self.options.get("tablename", "")
        self.deletes = _is_true(self.options.get("isdeleteflow", "false"))

    def _fail(self, error: Exception) -> LakeflowReadError:
        flow = "deletes of " if self.deletes else ""
        return LakeflowReadError(
            f"connector {self.connector_class.__name__} failed reading {flow}table "
            f"{self.table_name!r}: {type(error).__name__}: {error}"
        )

    def read_once(self, start: dict | None) -> tuple[list, dict]:
        """One connector call: the rows after `start` and the next offset."""
        try:
            connector = self.connector_class(self.options)
            read = connector.read_table_deletes if self.deletes else connector.read_table
            records, end = read(self.table_name, start or None, _table_options(self.options))
            rows = [tuple(record_to_row(r, self.schema)) for r in records]
        except Exception as error:  # noqa: BLE001 - re-raised with the connector and table named
            raise self._fail(error) from error
        return rows, (end or {})

    def read_all(self, start: dict | None = None) -> Iterator[tuple]:
        """Call the connector until its offset stops moving: the whole table after `start`."""
        offset = start or {}
        for _ in range(MAX_READ_CALLS):
            rows, end = self.read_once(offset)
            yield from rows
            if end == offset:
                return
            offset = end
        raise self._fail(RuntimeError(f"offset still moving after {MAX_READ_CALLS} reads"))


def metadata_rows(connector_class, options: dict) -> list[tuple]:
    """One row per table: the connector's metadata with tableConfigs' overrides applied."""
    options = normalize_options(options)
    names = [n.strip() for n in options.get("tablenamelist", "").split(",") if n.strip()]
    configs = json.loads(options.get("tableconfigs") or "{}")
    connector = connector_class(options)
    rows = []
    for name in names:
        config = configs.get(name) or {}
        table_options = {
            **_table_options(options),
            **{
                k: v
                for k, v in config.items()
                if k not in ("scd_type", "primary_keys", "sequence_by")
            },
        }
        try:
            metadata = connector.read_table_metadata(name, table_options)
        except Exception as error:  # noqa: BLE001 - re-raised with the connector and table named
            raise LakeflowReadError(
                f"connector {connector_class.__name__} failed reading metadata of table "
                f"{name!r}: {type(error).__name__}: {error}"
            ) from error
        keys = metadata.get("primary_keys")
        if config.get("primary_keys"):
            keys = parse_primary_keys(config["primary_keys"], f"tableConfigs.{name}.primary_keys")
        cursor = config.get("sequence_by") or metadata.get("cursor_field")
        ingestion_type = metadata.get("ingestion_type")
        if config.get("scd_type") == "APPEND_ONLY":
            ingestion_type = "append"
        rows.append((name, list(keys) if keys else None, cursor, ingestion_type))
    return rows


class LakeflowBatchReader(DataSourceReader):
    def __init__(self, table_reader: LakeflowTableReader | None, metadata: list[tuple] | None):
        self.table_reader = table_reader
        self.metadata = metadata

    def partitions(self):
        return [InputPartition(0)]

    def read(self, partition):
        if self.metadata is not None:
            return iter(self.metadata)
        return self.table_reader.read_all()


class LakeflowStreamReader(SimpleDataSourceStreamReader, SupportsTriggerAvailableNow):
    """Each micro-batch is one connector call; the offset is the connector's own offset dict.

    With Trigger.AvailableNow, Spark keeps calling `read` until the offset stops moving, which is
    exactly when the connector says it has nothing more.
    """

    def __init__(self, table_reader: LakeflowTableReader):
        self.table_reader = table_reader

    def initialOffset(self) -> dict:
        return {}

    def read(self, start: dict):
        rows, end = self.table_reader.read_once(start)
        return iter(rows), end

    def readBetweenOffsets(self, start: dict, end: dict):
        rows, _ = self.table_reader.read_once(start)
        return iter(rows)

    def prepareForTriggerAvailableNow(self) -> None:
        # Nothing to pin: the connector's offsets reach a fixed point on their own, and Spark
        # stops at the first read that returns its start offset.
        return None

    def commit(self, end: dict) -> None:
        return None


class LakeflowDataSource(DataSource):
    """Bound to a connector class by `register_connector` (a subclass sets `connector_class`)."""

    connector_class = None

    @classmethod
    def name(cls) -> str:
        return LAKEFLOW_FORMAT

    def _options(self) -> dict[str, str]:
        return normalize_options(self.options)

    def _is_metadata(self) -> bool:
        return self._options().get("tablename") == METADATA_TABLE

    def schema(self):
        if self._is_metadata():
            return METADATA_SCHEMA
        options = self._options()
        table = options.get("tablename")
        if not table:
            raise ValueError("the lakeflow_connect data source needs the option tableName")
        try:
            return self.connector_class(options).get_table_schema(table, _table_options(options))
        except Exception as error:  # noqa: BLE001 - re-raised with the connector and table named
            raise LakeflowReadError(
                f"connector {self.connector_class.__name__} failed reading the schema of table "
                f"{table!r}: {type(error).__name__}: {error}"
            ) from error

    def reader(self, schema: StructType):
        options = self._options()
        if self._is_metadata():
            return LakeflowBatchReader(None, metadata_rows(self.connector_class, options))
        return LakeflowBatchReader(LakeflowTableReader(self.connector_class, options, schema), None)

    def simpleStreamReader(self, schema: StructType):
        return LakeflowStreamReader(
            LakeflowTableReader(self.connector_class, self._options(), schema)
        )


def register_connector(spark, connector_class):
    """Register `lakeflow_connect` for `connector_class`; returns the registered class."""
    bound = type("LakeflowSource", (LakeflowDataSource,), {"connector_class": connector_class})
    spark.dataSource.register(bound)
    return bound
