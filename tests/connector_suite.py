"""The shared connector test suite: every connector's test reuses it in a few lines.

    sim, make_connector = simulator_fixtures(AcmeSimulator, AcmeLakeflowConnect, seed=7)

    class TestAcmeConnector(LakeflowConnectTests):
        table_options = {"orders": {"region": "eu"}}
        null_columns = {"orders": {"voided_at": "set only on voided orders, which the API hides"}}

`simulator_fixtures` gives the module a `sim` fixture (the running simulator) and a
`make_connector(**option_overrides)` fixture whose connectors talk to it and wait on its clock;
the suite's `connector` fixture uses it. Connectors without an HTTP simulator override `connector`.

Every check runs over every table and its failure names the connector, the table and the rule.
Each rule is proven to fail on a deliberately broken connector in tests/test_connector_suite_rules.py.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Iterator

import pytest
from pyspark.sql.types import ArrayType, DataType, IntegerType, MapType, StructType

from libs.utils import record_to_row
from sources.interface.lakeflow_connect import INGESTION_TYPES, read_to_fixed_point

UNKNOWN_TABLE = "__no_such_table__"
KEYED_TYPES = ("cdc", "cdc_with_deletes")


def simulator_fixtures(simulator_class, connector_class, seed: int = 0, **simulator_kwargs):
    """(sim, make_connector) fixtures for a test module; assign both to module-level names.

    The simulator says how a connector reaches it (`connection_options()`); make_connector's
    keyword arguments override those options (e.g. a wrong token)."""

    @pytest.fixture
    def sim():
        with simulator_class(seed=seed, **simulator_kwargs) as running:
            yield running

    @pytest.fixture
    def make_connector(sim) -> Callable:
        def make(**overrides: str):
            connector = connector_class({**sim.connection_options(), **overrides})
            # Waits (retries, token expiry) run on the simulator's clock, not real time.
            connector.retry_policy.sleep = sim.clock.sleep
            connector.retry_policy.clock = sim.clock.time
            return connector

        return make

    return sim, make_connector


def schema_paths(data_type: DataType, prefix: str = "") -> list[str]:
    """Every column path of a schema, nested struct fields included (`milestone.due_on`,
    `labels[].name`)."""
    paths = []
    for field in data_type.fields:
        path = f"{prefix}{field.name}"
        paths.append(path)
        inner = field.dataType
        if isinstance(inner, ArrayType) and isinstance(inner.elementType, StructType):
            paths += schema_paths(inner.elementType, f"{path}[].")
        elif isinstance(inner, StructType):
            paths += schema_paths(inner, f"{path}.")
    return paths


def filled_paths(value, data_type: DataType, path: str = "") -> set[str]:
    """The column paths of one converted value that hold something: not null, and for arrays
    and maps not empty (an empty array exercises no element)."""
    if value is None or (isinstance(data_type, (ArrayType, MapType)) and not value):
        return set()
    filled = {path} if path else set()
    if isinstance(data_type, StructType):
        prefix = f"{path}." if path else ""
        for field in data_type.fields:
            filled |= filled_paths(value[field.name], field.dataType, prefix + field.name)
    elif isinstance(data_type, ArrayType) and isinstance(data_type.elementType, StructType):
        for item in value:
            filled |= filled_paths(item, data_type.elementType, f"{path}[]")
    return filled


def _type_problems(data_type: DataType, path: str = "") -> Iterator[str]:
    """IntegerType anywhere, and field names used twice in one struct."""
    if isinstance(data_type, IntegerType):
        yield f"{path} is IntegerType; use LongType (APIs' ids and counts outgrow 32 bits)"
    elif isinstance(data_type, ArrayType):
        yield from _type_problems(data_type.elementType, f"{path}[]")
    elif isinstance(data_type, MapType):
        yield from _type_problems(data_type.keyType, f"{path}<key>")
        yield from _type_problems(data_type.valueType, f"{path}<value>")
    elif isinstance(data_type, StructType):
        prefix = f"{path}." if path else ""
        names = [f.name for f in data_type.fields]
        for name in sorted({n for n in names if names.count(n) > 1}):
            yield f"duplicate field name {prefix}{name}"
        for field in data_type.fields:
            yield from _type_problems(field.dataType, prefix + field.name)


def _offset_problem(offset) -> str | None:
    if offset is None:
        return None
    if not isinstance(offset, dict):
        return f"offset {offset!r} is not a dict"
    try:
        again = json.loads(json.dumps(offset))
    except (TypeError, ValueError) as error:
        return f"offset {offset!r} is not JSON-serialisable ({error})"
    if again != offset:
        return f"offset {offset!r} does not survive a JSON round trip (got {again!r})"
    return None


class _OffsetRecorder:
    """Wraps a connector so every offset a read returns is kept for checking."""

    def __init__(self, connector):
        self.connector, self.offsets = connector, []

    def read_table(self, *args):
        records, offset = self.connector.read_table(*args)
        self.offsets.append(offset)
        return records, offset

    def read_table_deletes(self, *args):
        records, offset = self.connector.read_table_deletes(*args)
        self.offsets.append(offset)
        return records, offset


class LakeflowConnectTests:
    connector_class = None
    options: dict[str, str] = {}
    table_options: dict[str, dict[str, str]] = {}
    # Columns the real API can leave null in every record: {table: {column path: one-line reason}}.
    # Every other declared column must hold a value in at least one record or delete record.
    null_columns: dict[str, dict[str, str]] = {}
    # Reading a table must settle within this many read_table calls.
    max_read_calls = 200

    @pytest.fixture
    def connector(self, request):
        if self.connector_class is not None:
            return self.connector_class(dict(self.options))
        return request.getfixturevalue("make_connector")()

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

    def schema(self, connector, table: str) -> StructType:
        return connector.get_table_schema(table, self.options_for(table))

    def rows(self, connector, table: str, records: list, what: str = "record") -> list:
        """The records converted to the table's schema, each failure naming the table."""
        schema, where = self.schema(connector, table), self.where(connector, table)
        rows = []
        for record in records:
            assert isinstance(record, dict), f"{where}: {what} {record!r} is not a dict"
            try:
                rows.append(record_to_row(record, schema))
            except ValueError as error:
                raise AssertionError(f"{where}: {what} does not parse: {error}") from error
        return rows

    # -- the checks -----------------------------------------------------------------------------
    def test_list_tables_is_not_empty(self, connector):
        tables = connector.list_tables()
        assert isinstance(tables, list) and tables, f"{type(connector).__name__}: no tables"
        assert all(isinstance(t, str) and t for t in tables), f"table names {tables!r}"
        assert len(set(tables)) == len(tables), "duplicate table names"

    def test_unknown_table_raises(self, connector):
        calls = {
            "get_table_schema": lambda: connector.get_table_schema(UNKNOWN_TABLE, {}),
            "read_table_metadata": lambda: connector.read_table_metadata(UNKNOWN_TABLE, {}),
            "read_table": lambda: list(connector.read_table(UNKNOWN_TABLE, None, {})[0]),
        }
        for name, call in calls.items():
            try:
                call()
            except Exception:  # noqa: BLE001, S112 - any clear error will do, silence will not
                continue
            raise AssertionError(f"{type(connector).__name__}.{name} accepts an unknown table")

    def test_every_schema_is_a_struct_type(self, connector):
        for table in connector.list_tables():
            schema = self.schema(connector, table)
            assert isinstance(schema, StructType), f"{self.where(connector, table)}: {schema!r}"
            assert schema.fields, f"{self.where(connector, table)}: empty schema"

    def test_schema_and_metadata_are_the_same_on_every_call(self, connector):
        for table in connector.list_tables():
            where = self.where(connector, table)
            first, second = self.schema(connector, table), self.schema(connector, table)
            assert first == second, f"{where}: the schema changed between two calls"
            first = connector.read_table_metadata(table, self.options_for(table))
            second = connector.read_table_metadata(table, self.options_for(table))
            assert first == second, f"{where}: the metadata changed between two calls"

    def test_schema_field_names_are_unique_and_integers_are_long(self, connector):
        for table in connector.list_tables():
            problems = list(_type_problems(self.schema(connector, table)))
            assert not problems, f"{self.where(connector, table)}: {'; '.join(problems)}"

    def test_metadata_is_valid_and_names_schema_fields(self, connector):
        for table, meta in self.metadata(connector).items():
            where = self.where(connector, table)
            fields = set(self.schema(connector, table).fieldNames())
            kind = meta.get("ingestion_type")
            assert kind in INGESTION_TYPES, f"{where}: ingestion_type {kind!r}"
            if kind != "append":
                keys = meta.get("primary_keys")
                assert isinstance(keys, list) and keys, f"{where}: primary_keys {keys!r}"
                missing = set(keys) - fields
                assert not missing, f"{where}: primary keys {missing} not in the schema"
            if kind != "snapshot":
                cursor = meta.get("cursor_field")
                assert isinstance(cursor, str), f"{where}: cursor_field {cursor!r} is not a str"
                assert cursor in fields, f"{where}: cursor_field {cursor!r} not in the schema"

    def test_read_table_returns_an_iterator_and_a_dict(self, connector):
        for table in connector.list_tables():
            result = connector.read_table(table, None, self.options_for(table))
            where = self.where(connector, table)
            assert isinstance(result, tuple) and len(result) == 2, f"{where}: {type(result)}"
            records, offset = result
            assert isinstance(records, Iterator) or hasattr(records, "__iter__"), where
            assert isinstance(offset, dict), f"{where}: offset {offset!r} is not a dict"

    def test_first_read_returns_records(self, connector):
        for table in connector.list_tables():
            records, _ = connector.read_table(table, None, self.options_for(table))
            assert list(records), f"{self.where(connector, table)}: the first read returned nothing"

    def test_offsets_reach_a_fixed_point(self, connector):
        for table in connector.list_tables():
            records, offset = self.read_to_fixed_point(connector, table)
            again, same = connector.read_table(table, offset, self.options_for(table))
            where = self.where(connector, table)
            assert same == offset, f"{where}: reading from the final offset moved it"
            kind = connector.read_table_metadata(table, self.options_for(table))["ingestion_type"]
            if kind != "snapshot":
                assert list(again) == [], f"{where}: records returned after the final offset"

    def test_offsets_are_json_serialisable(self, connector):
        for table, meta in self.metadata(connector).items():
            recorder = _OffsetRecorder(connector)
            self.read_to_fixed_point(recorder, table)
            if meta["ingestion_type"] == "cdc_with_deletes":
                self.read_to_fixed_point(recorder, table, deletes=True)
            for offset in recorder.offsets:
                problem = _offset_problem(offset)
                assert problem is None, f"{self.where(connector, table)}: {problem}"

    def test_records_convert_to_the_schema(self, connector):
        """Records parse against the schema (which refuses nulls in non-nullable fields), none is
        all null, and keyed tables' primary keys are never null."""
        for table, meta in self.metadata(connector).items():
            where = self.where(connector, table)
            records, _ = self.read_to_fixed_point(connector, table)
            assert records, f"{where}: the test data has no records; the suite checks nothing"
            keys = (meta.get("primary_keys") or []) if meta["ingestion_type"] in KEYED_TYPES else []
            for record, row in zip(records, self.rows(connector, table, records), strict=True):
                assert any(v is not None for v in row), f"{where}: every column is null: {record}"
                for key in keys:
                    assert row[key] is not None, f"{where}: primary key {key} is null: {record}"

    def test_deletes_are_read_for_cdc_with_deletes(self, connector):
        for table, meta in self.metadata(connector).items():
            if meta["ingestion_type"] != "cdc_with_deletes":
                continue
            where = self.where(connector, table)
            deleted, offset = self.read_to_fixed_point(connector, table, deletes=True)
            assert isinstance(offset, dict), f"{where}: delete offset {offset!r} is not a dict"
            assert deleted, (
                f"{where}: the delete read returned nothing; seed the simulator with deleted "
                "records so the delete flow is tested"
            )
            for record, row in zip(deleted, self.rows(connector, table, deleted, "delete record"),
                                   strict=True):  # fmt: skip
                for key in meta["primary_keys"]:
                    assert row[key] is not None, (
                        f"{where}: a delete record lacks its primary key {key}: {record}"
                    )
                # The pipeline orders deletes among changes by the cursor (sequence_by).
                cursor = meta["cursor_field"]
                assert row[cursor] is not None, (
                    f"{where}: a delete record lacks its cursor {cursor}: {record}"
                )

    def test_connector_pickles_after_a_read(self, connector):
        """Spark pickles the connector to ship it to its workers, after the driver used it: open
        sessions and cached tokens must not travel, and the copy must read the same records."""
        table, where = connector.list_tables()[0], type(connector).__name__
        records, _ = self.read_to_fixed_point(connector, table)
        try:
            clone = pickle.loads(pickle.dumps(connector))
        except Exception as error:  # noqa: BLE001 - whatever pickling raises, name it
            raise AssertionError(f"{where} does not pickle after a read: {error!r}") from error
        again, _ = self.read_to_fixed_point(clone, table)
        assert again == records, f"{where}: the unpickled connector reads other records"

    def test_every_column_holds_a_value_somewhere(self, connector):
        """Each declared column (nested fields included) is non-null in at least one record or
        delete record, unless `null_columns` names it with the reason the real API leaves it
        empty; a listed column that does hold values is a stale entry and fails too."""
        unknown = set(self.null_columns) - set(connector.list_tables())
        assert not unknown, f"null_columns names tables that do not exist: {sorted(unknown)}"
        for table, meta in self.metadata(connector).items():
            schema, where = self.schema(connector, table), self.where(connector, table)
            records, _ = self.read_to_fixed_point(connector, table)
            rows = self.rows(connector, table, records)
            if meta["ingestion_type"] == "cdc_with_deletes":
                deleted, _ = self.read_to_fixed_point(connector, table, deletes=True)
                rows += self.rows(connector, table, deleted, "delete record")
            filled = set().union(*(filled_paths(row, schema) for row in rows))
            declared = schema_paths(schema)
            allowed = self.null_columns.get(table, {})
            for column, reason in allowed.items():
                assert isinstance(reason, str) and reason.strip(), (
                    f"{where}: null_columns[{column!r}] needs a one-line reason"
                )
                assert column in declared, f"{where}: null_columns names unknown column {column!r}"
                assert column not in filled, (
                    f"{where}: null_columns lists {column!r} but records fill it; remove the entry"
                )
            never = [c for c in declared if c not in filled and c not in allowed]
            assert not never, (
                f"{where}: columns null in every record: {', '.join(never)}; give them realistic "
                "values in the simulator, or list them in null_columns with the API's reason"
            )
