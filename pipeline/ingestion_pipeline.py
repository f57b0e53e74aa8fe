"""`ingest(spark, pipeline_spec)`: declare every table of a pipeline spec and the flows that fill it.

Per table the connector's metadata decides the shape, and table_configuration overrides it:
- cdc: a streaming table fed by an AUTO CDC flow (keys, sequence_by, SCD type 1 or 2);
- cdc_with_deletes: the same, plus a second AUTO CDC flow whose rows are applied as deletes;
- snapshot: AUTO CDC from snapshot (a Databricks pipelines API);
- append, or scd_type APPEND_ONLY: a streaming table fed by an append flow.
"""

from __future__ import annotations

import json

from libs import runtime_names
from libs.spec_parser import TableSpec, parse_pipeline_spec


def _pipelines_api():
    # Imported when a pipeline runs, so this module imports anywhere (tests, tools).
    from pyspark import pipelines

    return pipelines


def table_configuration(table) -> dict[str, str]:
    """A table's table_configuration as the pipeline spec writes it: its table options plus the
    special keys that are set. `table` is a TableSpec or anything with the same four fields
    (the notebook path's CSV rows)."""
    config = dict(table.table_options)
    if table.scd_type:
        config["scd_type"] = table.scd_type
    if table.primary_keys:
        config["primary_keys"] = json.dumps(table.primary_keys)
    if table.sequence_by:
        config["sequence_by"] = table.sequence_by
    return config


def _source_options(connection_name: str, reader_options: dict | None) -> dict[str, str]:
    """How reads reach the source: the UC connection, or (notebook deployments, where custom
    connectors get no credentials from the connection) options read from secrets by the caller."""
    if reader_options is not None:
        return dict(reader_options)
    return {runtime_names.OPTION_CONNECTION: connection_name}


def read_metadata(
    spark, connection_name: str, tables: list[TableSpec], reader_options: dict | None = None
) -> dict[str, dict]:
    """One metadata-table read for all tables: source table → its effective metadata."""
    rows = (
        spark.read.format(runtime_names.DATA_SOURCE_NAME)
        .options(**_source_options(connection_name, reader_options))
        .option(runtime_names.OPTION_TABLE_NAME, runtime_names.METADATA_TABLE)
        .option(runtime_names.OPTION_TABLE_NAME_LIST, ",".join(t.source_table for t in tables))
        .option(
            runtime_names.OPTION_TABLE_CONFIGS,
            json.dumps({t.source_table: table_configuration(t) for t in tables}),
        )
        .load()
        .collect()
    )
    return {row[runtime_names.OPTION_TABLE_NAME]: row.asDict() for row in rows}


def _reader(spark, source_options: dict, table: TableSpec, streaming: bool, deletes: bool = False):
    reader = (spark.readStream if streaming else spark.read).format(runtime_names.DATA_SOURCE_NAME)
    reader = reader.options(**source_options)
    reader = reader.option(runtime_names.OPTION_TABLE_NAME, table.source_table)
    reader = reader.options(**table.table_options)
    if deletes:
        reader = reader.option(runtime_names.OPTION_IS_DELETE_FLOW, "true")
    return reader.load()


def _scd_number(table: TableSpec) -> int:
    return 2 if table.scd_type == "SCD_TYPE_2" else 1


def _require(table: TableSpec, ingestion_type: str, field: str, value, config_key: str) -> None:
    """A flow the table needs cannot be declared without `field`: say so here, in Python, rather
    than let the pipeline fail later inside the JVM."""
    if not value:
        raise ValueError(
            f"table {table.source_table!r} is ingested as {ingestion_type}, which needs "
            f"{field}: the connector's read_table_metadata gives none, so set "
            f"table_configuration.{config_key} for it in the pipeline spec"
            + (" (or scd_type APPEND_ONLY to append instead)" if field == "primary_keys" else "")
        )


def _declare_table(dp, spark, source_options: dict, table: TableSpec, metadata: dict) -> str:
    """Declare one table; returns the ingestion type actually used."""
    target = table.qualified_destination
    keys = table.primary_keys or list(metadata.get("primary_keys") or [])
    sequence_by = table.sequence_by or metadata.get("cursor_field")
    ingestion_type = metadata.get("ingestion_type") or runtime_names.DEFAULT_INGESTION_TYPE
    if table.scd_type == "APPEND_ONLY":
        ingestion_type = "append"
    if ingestion_type in ("cdc", "cdc_with_deletes", "snapshot"):
        _require(table, ingestion_type, "primary_keys", keys, "primary_keys")
    if ingestion_type in ("cdc", "cdc_with_deletes"):
        _require(table, ingestion_type, "cursor_field", sequence_by, "sequence_by")
    view = f"{table.destination_table}_lakeflow_source"

    def source_view(name: str, streaming: bool, deletes: bool = False) -> str:
        @dp.temporary_view(name=name)
        def read_source():
            return _reader(spark, source_options, table, streaming, deletes)

        return name

    if ingestion_type == "append":
        dp.create_streaming_table(name=target)

        @dp.append_flow(target=target, name=f"{table.destination_table}_append")
        def append_records():
            return _reader(spark, source_options, table, streaming=True)

    elif ingestion_type in ("cdc", "cdc_with_deletes"):
        dp.create_streaming_table(name=target)
        dp.create_auto_cdc_flow(
            target=target,
            source=source_view(view, streaming=True),
            keys=keys,
            sequence_by=sequence_by,
            stored_as_scd_type=_scd_number(table),
            name=f"{table.destination_table}_cdc",
        )
        if ingestion_type == "cdc_with_deletes":
            dp.create_auto_cdc_flow(
                target=target,
                source=source_view(f"{table.destination_table}_lakeflow_deletes", True, True),
                keys=keys,
                sequence_by=sequence_by,
                apply_as_deletes="true",
                stored_as_scd_type=_scd_number(table),
                name=f"{table.destination_table}_deletes",
            )
    elif ingestion_type == "snapshot":
        snapshot_flow = getattr(dp, "create_auto_cdc_from_snapshot_flow", None)
        if snapshot_flow is None:
            raise RuntimeError(
                f"table {table.source_table!r} is a snapshot table, which needs "
                "create_auto_cdc_from_snapshot_flow (Databricks pipelines only)"
            )
        dp.create_streaming_table(name=target)
        snapshot_flow(
            target=target,
            source=source_view(view, streaming=False),
            keys=keys,
            stored_as_scd_type=_scd_number(table),
        )
    else:
        raise ValueError(
            f"table {table.source_table!r}: unknown ingestion_type {ingestion_type!r} "
            "(expected snapshot, cdc, cdc_with_deletes or append)"
        )
    return ingestion_type


def ingest(spark, pipeline_spec: dict, reader_options: dict | None = None) -> dict[str, str]:
    """Declare every table of `pipeline_spec`; returns destination → ingestion type.

    `reader_options` replaces the connection: every read gets these options instead of
    `databricks.connection` (the notebook-based deployment passes secrets this way).
    """
    spec = parse_pipeline_spec(pipeline_spec)
    dp = _pipelines_api()
    source_options = _source_options(spec.connection_name, reader_options)
    metadata = read_metadata(spark, spec.connection_name, spec.objects, reader_options)
    declared = {}
    for table in spec.objects:
        if table.source_table not in metadata:
            raise ValueError(f"the connector returned no metadata for {table.source_table!r}")
        declared[table.qualified_destination] = _declare_table(
            dp, spark, source_options, table, metadata[table.source_table]
        )
    return declared
