"""The data source's pieces called directly (no JVM): upstream's namespace virtual tables, its
metadata table name and JSON table list, and partitioned batch reads under this repo's protocol.
The same paths run in real Spark in tests/spark/test_upstream_fixtures_in_spark.py."""

from __future__ import annotations

import json

import pytest
from pyspark.sql.datasource import InputPartition
from pyspark.sql.types import LongType, StructField, StructType

from libs import runtime_names
from pipeline.lakeflow_python_source import (
    NAMESPACES_SCHEMA,
    TABLES_SCHEMA,
    LakeflowReadError,
    register_connector,
)
from sources.interface import LakeflowConnect, SupportsNamespaces, SupportsPartition

TREE = {(): ["root_table"], ("org",): ["members"], ("org", "repo"): ["issues", "commits"]}


class TreeConnector(LakeflowConnect, SupportsNamespaces):
    def list_tables(self):
        return sorted({t for tables in TREE.values() for t in tables})

    def list_namespaces(self, prefix=None):
        prefix = tuple(prefix or ())
        return [list(p) for p in TREE if len(p) == len(prefix) + 1 and p[: len(prefix)] == prefix]

    def list_tables_in_namespace(self, namespace):
        return list(reversed(TREE.get(tuple(namespace), [])))  # any order: the runtime sorts

    get_table_schema = read_table_metadata = read_table = None


class FlatConnector(LakeflowConnect):
    def list_tables(self):
        return ["b", "a"]

    get_table_schema = read_table_metadata = read_table = None


class Registry:
    def __init__(self):
        self.dataSource = self

    def register(self, cls):
        self.registered = cls


def rows(connector_class, table: str, **options) -> tuple:
    spark = Registry()
    register_connector(spark, connector_class, upstream=True)
    source = spark.registered({runtime_names.OPTION_TABLE_NAME: table, **options})
    schema = source.schema()
    return schema, list(source.reader(schema).read(InputPartition(None)))


def test_a_namespace_tree_is_listed_level_by_level():
    schema, found = rows(TreeConnector, runtime_names.NAMESPACES_TABLE)
    assert schema == NAMESPACES_SCHEMA and found == [(["org"],)]
    _, found = rows(TreeConnector, runtime_names.NAMESPACES_TABLE, namespacePrefix='["org"]')
    assert found == [(["org", "repo"],)]
    schema, found = rows(TreeConnector, runtime_names.TABLES_TABLE, namespace='["org", "repo"]')
    assert schema == TABLES_SCHEMA
    assert found == [(["org", "repo"], "commits"), (["org", "repo"], "issues")]
    _, found = rows(TreeConnector, runtime_names.TABLES_TABLE, namespace="[]")
    assert found == [([], "root_table")]


def test_a_flat_connector_has_no_namespaces_and_every_table_at_the_root():
    assert rows(FlatConnector, runtime_names.NAMESPACES_TABLE)[1] == []
    assert rows(FlatConnector, runtime_names.TABLES_TABLE)[1] == [([], "a"), ([], "b")]


@pytest.mark.parametrize(
    ("connector_class", "options", "message"),
    [
        (TreeConnector, {}, "needs the option namespace"),
        (FlatConnector, {"namespace": "[]"}, "the connector has no namespaces"),
        (TreeConnector, {"namespace": '"org"'}, "must be a JSON array of strings"),
    ],
)
def test_namespace_options_that_do_not_fit_the_connector_are_errors(
    connector_class, options, message
):
    with pytest.raises(ValueError, match=message):
        rows(connector_class, runtime_names.TABLES_TABLE, **options)


class Pages(LakeflowConnect, SupportsPartition):
    """This repo's protocol with partitions: one partition per page of two items."""

    def list_tables(self):
        return ["items"]

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": ["id"]}  # no ingestion_type: cdc

    def get_table_schema(self, table_name, table_options):
        return StructType([StructField("id", LongType(), False)])

    def get_partitions(self, table_name, table_options):
        if table_options.get("broken"):
            raise RuntimeError("no partitions today")
        return [{"page": 0}, {"page": 1}]

    def read_partition(self, table_name, partition, table_options):
        return iter({"id": partition["page"] * 2 + i} for i in (1, 2))

    read_table = None


def source(connector_class, upstream: bool, **options):
    spark = Registry()
    register_connector(spark, connector_class, upstream=upstream)
    return spark.registered(options)


def test_a_partitioned_table_is_read_one_input_partition_per_descriptor():
    data_source = source(Pages, False, tableName="items")
    reader = data_source.reader(data_source.schema())
    partitions = reader.partitions()
    assert [json.loads(p.value) for p in partitions] == [{"page": 0}, {"page": 1}]
    assert [list(reader.read(p)) for p in partitions] == [[(1,), (2,)], [(3,), (4,)]]


def test_listing_partitions_fails_loudly_under_this_repos_protocol():
    data_source = source(Pages, False, tableName="items", broken="yes")
    with pytest.raises(LakeflowReadError, match="failed listing partitions of table 'items'"):
        data_source.reader(data_source.schema()).partitions()


@pytest.mark.parametrize("table_list", ['["items", "other"]', "items,other"])
def test_upstreams_metadata_table_name_and_json_table_list_are_accepted(table_list):
    data_source = source(
        Pages, True, tableName=runtime_names.UPSTREAM_METADATA_TABLE, tableNameList=table_list
    )
    rows = list(data_source.reader(data_source.schema()).read(InputPartition(None)))
    assert rows == [("items", ["id"], None, "cdc"), ("other", ["id"], None, "cdc")]
