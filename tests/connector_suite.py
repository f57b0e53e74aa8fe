"""The shared connector test suite: every connector's test reuses it in a few lines.

    class TestGithubConnector(LakeflowConnectTests):
        connector_class = GithubLakeflowConnect
        table_options = {"issues": {"owner": "o", "repo": "r"}}

        @pytest.fixture
        def connector(self, simulator):            # HTTP connectors point at their simulator
            return GithubLakeflowConnect({"token": "t", "base_url": simulator.url})

Every check runs over every table and its failure names the connector and the table.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pyspark.sql.types import StructType

from libs.utils import record_to_row
from sources.interface.lakeflow_connect import INGESTION_TYPES, read_to_fixed_point

UNKNOWN_TABLE = "__no_such_table__"


class LakeflowConnectTests:
    connector_class = None
    options: dict[str, str] = {}
    table_options: dict[str, dict[str, str]] = {}
    # Reading a table must settle within this many read_table calls.
    max_read_calls = 200

    @pytest.fixture
    def connector(self):
        return self.connector_class(dict(self.options))

    # -- helpers ------------------------------------------------------------------------------
    def options_for(self, table: str) -> dict[str, str]:
        return dict(self.table_options.get(table, {}))

    @staticmethod
    def where(connector, table: str) -> str:
        return f"{type(connector).__name__}.{table}"

    def read_to_fixed_point(self, connector, table: str, deletes: bool = False):
        """All records of `table` (or its deletes), calling until the offset stops moving."""
        try:
            return read_to_fixed_point(
                connector, table, None, self.options_for(table), deletes=deletes,
                max_calls=self.max_read_calls,
            )  # fmt: skip
        except RuntimeError as error:
            raise AssertionError(f"{self.where(connector, table)}: {error}") from error

    def metadata(self, connector) -> dict[str, dict]:
        return {
            t: connector.read_table_metadata(t, self.options_for(t))
            for t in connector.list_tables()
        }

    # -- the checks -----------------------------------------------------------------------------
    def test_list_tables_is_not_empty(self, connector):
        tables = connector.list_tables()
        assert isinstance(tables, list) and tables, f"{type(connector).__name__}: no tables"
        assert all(isinstance(t, str) and t for t in tables)
        assert len(set(tables)) == len(tables), "duplicate table names"

    def test_unknown_table_raises(self, connector):
        with pytest.raises(Exception):  # noqa: B017 - any clear error will do, silence will not
            connector.get_table_schema(UNKNOWN_TABLE, {})
        with pytest.raises(Exception):  # noqa: B017
            connector.read_table_metadata(UNKNOWN_TABLE, {})

    def test_every_schema_is_a_struct_type(self, connector):
        for table in connector.list_tables():
            schema = connector.get_table_schema(table, self.options_for(table))
            assert isinstance(schema, StructType), f"{self.where(connector, table)}: {schema!r}"
            assert schema.fields, f"{self.where(connector, table)}: empty schema"

    def test_metadata_is_valid_and_names_schema_fields(self, connector):
        for table, meta in self.metadata(connector).items():
            where = self.where(connector, table)
            fields = set(connector.get_table_schema(table, self.options_for(table)).fieldNames())
            kind = meta.get("ingestion_type")
            assert kind in INGESTION_TYPES, f"{where}: ingestion_type {kind!r}"
            if kind != "append":
                keys = meta.get("primary_keys")
                assert isinstance(keys, list) and keys, f"{where}: primary_keys {keys!r}"
                missing = set(keys) - fields
                assert not missing, f"{where}: primary keys {missing} not in the schema"
            if kind != "snapshot":
                cursor = meta.get("cursor_field")
                assert cursor in fields, f"{where}: cursor_field {cursor!r} not in the schema"

    def test_read_table_returns_an_iterator_and_a_dict(self, connector):
        for table in connector.list_tables():
            result = connector.read_table(table, None, self.options_for(table))
            where = self.where(connector, table)
            assert isinstance(result, tuple) and len(result) == 2, f"{where}: {type(result)}"
            records, offset = result
            assert isinstance(records, Iterator) or hasattr(records, "__iter__"), where
            assert isinstance(offset, dict), f"{where}: offset {offset!r} is not a dict"

    def test_offsets_reach_a_fixed_point(self, connector):
        for table in connector.list_tables():
            records, offset = self.read_to_fixed_point(connector, table)
            again, same = connector.read_table(table, offset, self.options_for(table))
            where = self.where(connector, table)
            assert same == offset, f"{where}: reading from the final offset moved it"
            kind = connector.read_table_metadata(table, self.options_for(table))["ingestion_type"]
            if kind != "snapshot":
                assert list(again) == [], f"{where}: records returned after the final offset"

    def test_records_convert_to_the_schema(self, connector):
        for table in connector.list_tables():
            schema = connector.get_table_schema(table, self.options_for(table))
            records, _ = self.read_to_fixed_point(connector, table)
            where = self.where(connector, table)
            assert records, f"{where}: the test data has no records; the suite checks nothing"
            for record in records:
                assert isinstance(record, dict), f"{where}: record {record!r} is not a dict"
                try:
                    row = record_to_row(record, schema)
                except ValueError as error:
                    raise AssertionError(f"{where}: {error}") from error
                for field in schema.fields:
                    if not field.nullable:
                        assert row[field.name] is not None, f"{where}: {field.name} is null"

    def test_deletes_readable_for_cdc_with_deletes(self, connector):
        for table, meta in self.metadata(connector).items():
            if meta["ingestion_type"] != "cdc_with_deletes":
                continue
            where = self.where(connector, table)
            deleted, offset = self.read_to_fixed_point(connector, table, deletes=True)
            assert isinstance(offset, dict), where
            for record in deleted:
                missing = set(meta["primary_keys"]) - set(record)
                assert not missing, f"{where}: a deleted record lacks its keys {missing}"
