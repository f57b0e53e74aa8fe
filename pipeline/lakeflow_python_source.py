"""The `lakeflow_connect` PySpark data source, bound to one connector class at registration.

Options: `tableName` picks the table; the special table `_lakeflow_metadata` (with `tableNameList`
and `tableConfigs`) returns one metadata row per table; `isDeleteFlow=true` reads deletes. Every
option reaches the connector's constructor; all but the reserved ones are its table_options.
Spark lower-cases option names, so options are normalised to lower case here for every caller,
and connector option names are lower-case by convention.

Two runtime protocols:
- this repo's (connectors written against `sources/interface`): a connector is constructed for
  each call, gets only its own table options, and a batch read calls `read_table` until the
  offset stops moving;
- upstream's (connectors merged from upstream's layouts, `register_connector(..., upstream=True)`):
  one connector is constructed on the driver and shipped with the reader, it gets Spark's options
  as they are (minus isDeleteFlow) as table options, a batch read is one `read_table` call from
  None, and a stream starts from `{}`. A connector that works under upstream works here.

Connectors implementing `SupportsPartition` are read one Spark input partition per descriptor in
batch, and `SupportsPartitionedStream` ones in streaming too, with Spark checkpointing offsets.
Metadata without `ingestion_type` means `cdc`, as upstream reads it. Upstream's virtual tables
`_community_namespaces` (option `namespacePrefix`) and `_community_tables` (option `namespace`, JSON
arrays of path segments) list a `SupportsNamespaces` connector's tree; a flat connector has no
namespaces and all its tables at the root.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    DataSourceStreamReader,
    InputPartition,
    SimpleDataSourceStreamReader,
)
from pyspark.sql.streaming.datasource import SupportsTriggerAvailableNow
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from libs import runtime_names
from libs.spec_parser import parse_primary_keys
from libs.utils import record_to_row
from sources.interface.supports_namespaces import SupportsNamespaces
from sources.interface.supports_partition import SupportsPartition, SupportsPartitionedStream

# Option names as this module sees them: Spark lower-cases every option name.
_TABLE_NAME = runtime_names.OPTION_TABLE_NAME.lower()
_TABLE_NAME_LIST = runtime_names.OPTION_TABLE_NAME_LIST.lower()
_TABLE_CONFIGS = runtime_names.OPTION_TABLE_CONFIGS.lower()
_IS_DELETE_FLOW = runtime_names.OPTION_IS_DELETE_FLOW.lower()
_METADATA_TABLES = (runtime_names.METADATA_TABLE, runtime_names.UPSTREAM_METADATA_TABLE)
RESERVED_OPTIONS = frozenset(
    {
        *(option.lower() for option in runtime_names.DATA_SOURCE_OPTIONS),
        runtime_names.OPTION_CONNECTION,
        runtime_names.OPTION_NAMESPACE_PREFIX.lower(),
        runtime_names.OPTION_NAMESPACE.lower(),
        "sourcename",
        "externaloptionsallowlist",
    }
)
METADATA_SCHEMA = StructType(
    [
        StructField(runtime_names.OPTION_TABLE_NAME, StringType(), False),
        StructField("primary_keys", ArrayType(StringType()), True),
        StructField("cursor_field", StringType(), True),
        StructField("ingestion_type", StringType(), False),
    ]
)
_NAMESPACE = StructField("namespace", ArrayType(StringType()), False)
NAMESPACES_SCHEMA = StructType([_NAMESPACE])
TABLES_SCHEMA = StructType(
    [_NAMESPACE, StructField(runtime_names.OPTION_TABLE_NAME, StringType(), False)]
)
# A connector whose offsets never settle would hang a batch read; this bounds it loudly.
MAX_READ_CALLS = 10_000


class LakeflowReadError(RuntimeError):
    """A connector failed inside Spark: says which connector and table, and what it raised."""


def normalize_options(options) -> dict[str, str]:
    return {str(key).lower(): value for key, value in dict(options).items()}


def _table_options(options: dict) -> dict[str, str]:
    return {k: v for k, v in options.items() if k not in RESERVED_OPTIONS}


def _upstream_table_options(options):
    """Spark's options as upstream hands them to connectors: everything but isDeleteFlow, still
    case-insensitive when Spark's options are."""
    table_options = options.copy()
    for key in [k for k in table_options if str(k).lower() == _IS_DELETE_FLOW]:
        del table_options[key]
    return table_options


def _is_true(value) -> bool:
    return str(value).strip().lower() == "true"


def _fail(connector_class, what: str, table: str, error: Exception) -> LakeflowReadError:
    return LakeflowReadError(
        f"connector {connector_class.__name__} failed {what} {table!r}: "
        f"{type(error).__name__}: {error}"
    )


class LakeflowTableReader:
    """Reads one table (or its deletes) through the connector; shared by batch and stream.

    `connector` is set for upstream's protocol: the one instance made on the driver."""

    def __init__(self, connector_class, options, schema: StructType, connector=None):
        self.connector_class = connector_class
        self.shared_connector = connector
        self.upstream = connector is not None
        self.options = normalize_options(options)
        self.table_options = (
            _upstream_table_options(options) if self.upstream else _table_options(self.options)
        )
        self.schema = schema
        self.table_name = self.options.get(_TABLE_NAME, "")
        self.deletes = _is_true(self.options.get(_IS_DELETE_FLOW, "false"))

    def connector(self):
        if self.shared_connector is not None:
            return self.shared_connector
        return self.connector_class(self.options)

    def _fail(self, error: Exception) -> LakeflowReadError:
        flow = "reading deletes of table" if self.deletes else "reading table"
        return _fail(self.connector_class, flow, self.table_name, error)

    def _rows(self, records) -> list[tuple]:
        return [tuple(record_to_row(r, self.schema)) for r in records]

    def read_once(self, start: dict | None) -> tuple[list, dict]:
        """One connector call: the rows after `start` and the next offset."""
        try:
            connector = self.connector()
            read = connector.read_table_deletes if self.deletes else connector.read_table
            start = start if self.upstream else (start or None)
            records, end = read(self.table_name, start, self.table_options)
            rows = self._rows(records)
        except Exception as error:  # noqa: BLE001 - re-raised with the connector and table named
            raise self._fail(error) from error
        return rows, (end or {})

    def read_all(self, start: dict | None = None) -> Iterator[tuple]:
        """The whole table after `start`: upstream reads it in one call from None; this repo's
        protocol calls the connector until its offset stops moving."""
        if self.upstream:
            yield from self.read_once(None)[0]
            return
        offset = start or {}
        for _ in range(MAX_READ_CALLS):
            rows, end = self.read_once(offset)
            yield from rows
            if end == offset:
                return
            offset = end
        raise self._fail(RuntimeError(f"offset still moving after {MAX_READ_CALLS} reads"))

    # -- partitioned reads -----------------------------------------------------------------------
    def partitions(self, start: dict | None = None, end: dict | None = None) -> list | None:
        """Input partitions from the connector's descriptors, or None when it is not partitioned.

        Upstream falls back to one read_table call when get_partitions fails; so does its
        protocol here. This repo's protocol reports the failure."""
        connector = self.connector()
        if self.deletes or not isinstance(connector, SupportsPartition):
            return None
        try:
            if start is None and end is None:
                descriptors = connector.get_partitions(self.table_name, self.table_options)
            else:
                descriptors = connector.get_partitions(
                    self.table_name, self.table_options, start, end
                )
            return [InputPartition(json.dumps(d, sort_keys=True)) for d in descriptors]
        except Exception as error:  # noqa: BLE001 - upstream's fallback, or re-raised named
            if self.upstream:
                return None
            raise _fail(
                self.connector_class, "listing partitions of table", self.table_name, error
            ) from error

    def read_partition(self, partition: InputPartition) -> list[tuple]:
        try:
            descriptor = json.loads(partition.value)
            records = self.connector().read_partition(
                self.table_name, descriptor, self.table_options
            )
            return self._rows(records)
        except Exception as error:  # noqa: BLE001 - re-raised with the connector and table named
            raise _fail(
                self.connector_class, "reading a partition of table", self.table_name, error
            ) from error

    def latest_offset(self, start: dict) -> dict:
        try:
            return self.connector().latest_offset(self.table_name, self.table_options, start)
        except Exception as error:  # noqa: BLE001 - re-raised with the connector and table named
            raise _fail(
                self.connector_class, "reading the latest offset of", self.table_name, error
            ) from error


def _table_names(value: str) -> list[str]:
    """tableNameList: a comma list, or (as upstream's pipelines send it) a JSON array."""
    value = (value or "").strip()
    if value.startswith("["):
        return [str(n) for n in json.loads(value)]
    return [n.strip() for n in value.split(",") if n.strip()]


def metadata_rows(connector_class, options, connector=None) -> list[tuple]:
    """One row per table: the connector's metadata with tableConfigs' overrides applied."""
    upstream = connector is not None
    normalized = normalize_options(options)
    names = _table_names(normalized.get(_TABLE_NAME_LIST, ""))
    configs = json.loads(normalized.get(_TABLE_CONFIGS) or "{}")
    connector = connector if upstream else connector_class(normalized)
    rows = []
    for name in names:
        config = configs.get(name) or {}
        if upstream:  # upstream hands the table's configuration over as it is
            table_options = dict(config)
        else:
            table_options = {
                **_table_options(normalized),
                **{
                    k: v
                    for k, v in config.items()
                    if k not in ("scd_type", "primary_keys", "sequence_by")
                },
            }
        try:
            metadata = connector.read_table_metadata(name, table_options)
        except Exception as error:  # noqa: BLE001 - re-raised with the connector and table named
            raise _fail(connector_class, "reading metadata of table", name, error) from error
        keys = metadata.get("primary_keys")
        if config.get("primary_keys"):
            keys = parse_primary_keys(
                config["primary_keys"],
                f"{runtime_names.OPTION_TABLE_CONFIGS}.{name}.primary_keys",
            )
        cursor = config.get("sequence_by") or metadata.get("cursor_field")
        ingestion_type = metadata.get("ingestion_type") or runtime_names.DEFAULT_INGESTION_TYPE
        if config.get("scd_type") == "APPEND_ONLY":
            ingestion_type = "append"
        rows.append((name, list(keys) if keys else None, cursor, ingestion_type))
    return rows


def _path_option(options: dict, name: str) -> list[str] | None:
    """A namespace path option: a JSON array of strings, or None when absent."""
    value = options.get(name.lower())
    if value is None:
        return None
    path = json.loads(value)
    if not isinstance(path, list) or not all(isinstance(s, str) for s in path):
        raise ValueError(f"option {name} must be a JSON array of strings, got {value!r}")
    return path


def namespace_rows(connector, options) -> list[tuple]:
    """`_community_namespaces`: the child namespaces under namespacePrefix, sorted."""
    if not isinstance(connector, SupportsNamespaces):
        return []
    prefix = _path_option(normalize_options(options), runtime_names.OPTION_NAMESPACE_PREFIX)
    return [(list(path),) for path in sorted(connector.list_namespaces(prefix))]


def table_rows(connector, options) -> list[tuple]:
    """`_community_tables`: the tables in one namespace (a flat connector: all, at the root)."""
    namespace = _path_option(normalize_options(options), runtime_names.OPTION_NAMESPACE)
    if isinstance(connector, SupportsNamespaces):
        if namespace is None:
            raise ValueError(
                f"{runtime_names.TABLES_TABLE} of a connector with namespaces needs the option "
                f"{runtime_names.OPTION_NAMESPACE} (a JSON array; [] for the root)"
            )
        return [(namespace, t) for t in sorted(connector.list_tables_in_namespace(namespace))]
    if namespace is not None:
        raise ValueError(
            f"option {runtime_names.OPTION_NAMESPACE} was given, but the connector has no namespaces"
        )
    return [([], t) for t in sorted(connector.list_tables())]


class LakeflowBatchReader(DataSourceReader):
    def __init__(self, table_reader: LakeflowTableReader | None, metadata: list[tuple] | None):
        self.table_reader = table_reader
        self.metadata = metadata

    def partitions(self):
        if self.metadata is None:
            partitions = self.table_reader.partitions()
            if partitions is not None:
                return partitions
        return [InputPartition(None)]

    def read(self, partition):
        if self.metadata is not None:
            return iter(self.metadata)
        if partition.value is not None:
            return iter(self.table_reader.read_partition(partition))
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


class LakeflowPartitionedStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """A SupportsPartitionedStream table: each micro-batch spans (start, latest_offset], split
    into the connector's partitions, each read on an executor. Spark checkpoints the offsets,
    so a restarted stream resumes after the last committed batch."""

    def __init__(self, table_reader: LakeflowTableReader):
        self.table_reader = table_reader

    def initialOffset(self) -> dict:
        return {}

    def latestOffset(self, start: dict, limit) -> dict:
        # Batch sizing is the connector's (through its table options); Spark asks for all.
        return self.table_reader.latest_offset(start)

    def partitions(self, start: dict, end: dict):
        return self.table_reader.partitions(start, end) or []

    def read(self, partition):
        return iter(self.table_reader.read_partition(partition))

    def prepareForTriggerAvailableNow(self) -> None:
        return None

    def commit(self, end: dict) -> None:
        return None


class LakeflowDataSource(DataSource):
    """Bound to a connector class by `register_connector` (a subclass sets `connector_class`,
    and `upstream` for connectors that run under upstream's protocol)."""

    connector_class = None
    upstream = False

    @classmethod
    def name(cls) -> str:
        return runtime_names.DATA_SOURCE_NAME

    def _options(self) -> dict[str, str]:
        return normalize_options(self.options)

    def _is_metadata(self) -> bool:
        return self._options().get(_TABLE_NAME) in _METADATA_TABLES

    def _connector(self):
        """Upstream's protocol: the one connector instance, made here on the driver."""
        if not self.upstream:
            return None
        if getattr(self, "_shared_connector", None) is None:
            self._shared_connector = self.connector_class(self.options)
        return self._shared_connector

    def _table_reader(self, schema: StructType) -> LakeflowTableReader:
        return LakeflowTableReader(self.connector_class, self.options, schema, self._connector())

    def _virtual_table(self) -> str | None:
        table = self._options().get(_TABLE_NAME)
        return table if table in _VIRTUAL_TABLES else None

    def schema(self):
        if self._is_metadata():
            return METADATA_SCHEMA
        virtual = self._virtual_table()
        if virtual is not None:
            return _VIRTUAL_TABLES[virtual][0]
        options = self._options()
        table = options.get(_TABLE_NAME)
        if not table:
            raise ValueError(
                f"the {runtime_names.DATA_SOURCE_NAME} data source needs the option "
                f"{runtime_names.OPTION_TABLE_NAME}"
            )
        try:
            if self.upstream:
                return self._connector().get_table_schema(
                    table, _upstream_table_options(self.options)
                )
            return self.connector_class(options).get_table_schema(table, _table_options(options))
        except Exception as error:  # noqa: BLE001 - re-raised with the connector and table named
            raise _fail(
                self.connector_class, "reading the schema of table", table, error
            ) from error

    def reader(self, schema: StructType):
        if self._is_metadata():
            rows = metadata_rows(self.connector_class, self.options, self._connector())
            return LakeflowBatchReader(None, rows)
        virtual = self._virtual_table()
        if virtual is not None:
            connector = self._connector() or self.connector_class(self._options())
            return LakeflowBatchReader(None, _VIRTUAL_TABLES[virtual][1](connector, self.options))
        return LakeflowBatchReader(self._table_reader(schema), None)

    def streamReader(self, schema: StructType):
        table_reader = self._table_reader(schema)
        connector = table_reader.connector()
        if (
            not table_reader.deletes
            and isinstance(connector, SupportsPartitionedStream)
            and connector.is_partitioned(table_reader.table_name)
        ):
            return LakeflowPartitionedStreamReader(table_reader)
        return super().streamReader(schema)  # not implemented: Spark uses simpleStreamReader

    def simpleStreamReader(self, schema: StructType):
        return LakeflowStreamReader(self._table_reader(schema))


_VIRTUAL_TABLES = {
    runtime_names.NAMESPACES_TABLE: (NAMESPACES_SCHEMA, namespace_rows),
    runtime_names.TABLES_TABLE: (TABLES_SCHEMA, table_rows),
}


def register_connector(spark, connector_class, upstream: bool = False):
    """Register `lakeflow_connect` for `connector_class`; returns the registered class."""
    bound = type(
        "LakeflowSource",
        (LakeflowDataSource,),
        {"connector_class": connector_class, "upstream": upstream},
    )
    spark.dataSource.register(bound)
    return bound
