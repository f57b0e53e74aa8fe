"""The data source's upstream protocol pieces, called directly (no JVM): upstream's namespace
virtual tables for SupportsNamespaces connectors, and flat connectors under them."""

from __future__ import annotations

import pytest
from pyspark.sql.datasource import InputPartition

from libs import runtime_names
from pipeline.lakeflow_python_source import (
    NAMESPACES_SCHEMA,
    TABLES_SCHEMA,
    register_connector,
)
from sources.interface import LakeflowConnect, SupportsNamespaces

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
