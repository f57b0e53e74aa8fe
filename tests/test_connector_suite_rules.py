"""The shared suite guards itself: each rule fails on a tiny connector that breaks exactly it.

`TinyConnector` passes every rule; each `Broken*` class below changes one thing. A rule that
stopped checking would let its broken connector through, and its case here would fail. A new
rule without a broken connector fails `test_every_rule_has_a_broken_connector`.
"""

from __future__ import annotations

import itertools

import pytest
from pyspark.sql.types import (
    ArrayType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from sources.interface.lakeflow_connect import LakeflowConnect
from tests.connector_suite import LakeflowConnectTests

OWNER = StructType([StructField("login", StringType()), StructField("id", LongType())])
TINY_SCHEMAS = {
    "items": StructType(
        [
            StructField("id", LongType(), False),
            StructField("name", StringType()),
            StructField("tags", ArrayType(StringType())),
            StructField("owner", OWNER),
            StructField("note", StringType()),  # null everywhere: on TinySuite's allow-list
            StructField("updated_at", TimestampType(), False),
        ]
    ),
    "events": StructType([StructField("event_id", LongType()), StructField("kind", StringType())]),
}
TINY_METADATA = {
    "items": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc_with_deletes"},
    "events": {"cursor_field": "event_id", "ingestion_type": "append"},
}  # fmt: skip


def tiny_item(n: int) -> dict:
    return {"id": n, "name": f"item {n}", "tags": ["a"], "owner": {"login": "ada", "id": 7},
            "note": None, "updated_at": f"2024-01-0{n}T00:00:00Z"}  # fmt: skip


class TinyConnector(LakeflowConnect):
    """Two tables read two records per call; `items` has one delete. Obeys every rule."""

    items = [tiny_item(n) for n in (1, 2, 3)]
    events = [{"event_id": n, "kind": "click"} for n in (1, 2, 3)]
    deleted = [{"id": 9, "updated_at": "2024-01-09T00:00:00Z"}]

    def list_tables(self):
        return list(TINY_SCHEMAS)

    def _known(self, table):
        if table not in TINY_SCHEMAS:
            raise ValueError(f"tiny: unknown table {table!r}")

    def get_table_schema(self, table_name, table_options):
        self._known(table_name)
        return TINY_SCHEMAS[table_name]

    def read_table_metadata(self, table_name, table_options):
        self._known(table_name)
        return dict(TINY_METADATA[table_name])

    def page(self, records, start_offset):
        position = (start_offset or {}).get("position", 0)
        batch = records[position : position + 2]
        if not batch:
            return iter([]), dict(start_offset or {})
        return iter([dict(r) for r in batch]), {"position": position + len(batch)}

    def read_table(self, table_name, start_offset, table_options):
        self._known(table_name)
        return self.page(self.items if table_name == "items" else self.events, start_offset)

    def read_table_deletes(self, table_name, start_offset, table_options):
        self._known(table_name)
        return self.page(self.deleted, start_offset)


class TinySuite(LakeflowConnectTests):
    null_columns = {"items": {"note": "the tiny API never fills it"}}


# -- one broken connector per rule ---------------------------------------------------------------
class NoTables(TinyConnector):
    def list_tables(self):
        return []


class SilentOnUnknownTable(TinyConnector):
    def read_table(self, table_name, start_offset, table_options):
        if table_name not in TINY_SCHEMAS:
            return iter([]), {}
        return super().read_table(table_name, start_offset, table_options)


class DictSchema(TinyConnector):
    def get_table_schema(self, table_name, table_options):
        return {"id": "long"}


class SchemaChangesBetweenCalls(TinyConnector):
    calls = itertools.count()

    def get_table_schema(self, table_name, table_options):
        schema = super().get_table_schema(table_name, table_options)
        if next(self.calls) % 2:
            return StructType([*schema.fields, StructField("extra", StringType())])
        return schema


class MetadataChangesBetweenCalls(TinyConnector):
    calls = itertools.count()

    def read_table_metadata(self, table_name, table_options):
        meta = super().read_table_metadata(table_name, table_options)
        return {**meta, "call": next(self.calls)}


class OwnerTypeReplaced(TinyConnector):
    """`items.owner` declared with `owner_type` instead."""

    owner_type = OWNER

    def get_table_schema(self, table_name, table_options):
        schema = super().get_table_schema(table_name, table_options)
        return StructType(
            [StructField(f.name, self.owner_type if f.name == "owner" else f.dataType, f.nullable)
             for f in schema.fields]
        )  # fmt: skip


class DuplicateFieldName(OwnerTypeReplaced):
    owner_type = StructType(
        [StructField("login", StringType()), StructField("login", StringType())]
    )


class NestedIntegerType(OwnerTypeReplaced):
    owner_type = StructType([StructField("login", StringType()), StructField("id", IntegerType())])


class CursorFieldIsAList(TinyConnector):
    def read_table_metadata(self, table_name, table_options):
        meta = super().read_table_metadata(table_name, table_options)
        return {**meta, "cursor_field": [meta["cursor_field"]]}


class PrimaryKeyNotInSchema(TinyConnector):
    def read_table_metadata(self, table_name, table_options):
        meta = super().read_table_metadata(table_name, table_options)
        return {**meta, "primary_keys": ["uuid"]} if "primary_keys" in meta else meta


class ListInsteadOfIterator(TinyConnector):
    def read_table(self, table_name, start_offset, table_options):
        return list(super().read_table(table_name, start_offset, table_options))


class FirstReadEmpty(TinyConnector):
    def read_table(self, table_name, start_offset, table_options):
        if start_offset is None:  # a "warm-up" call that only moves the offset
            return iter([]), {"position": 0}
        return super().read_table(table_name, start_offset, table_options)


class OffsetNeverSettles(TinyConnector):
    calls = itertools.count()

    def read_table(self, table_name, start_offset, table_options):
        records, _ = super().read_table(table_name, start_offset, table_options)
        return records, {"position": 0, "call": next(self.calls)}


class RepeatsTheLastRecord(TinyConnector):
    def page(self, records, start_offset):
        batch, offset = super().page(records, start_offset)
        batch = list(batch)
        if not batch and start_offset:  # at the end: the last record again, offset unchanged
            batch = [dict(records[-1])]
        return iter(batch), offset


class DatetimeInOffset(TinyConnector):
    def page(self, records, start_offset):
        import datetime

        batch, offset = super().page(records, start_offset)
        if offset != (start_offset or {}):
            offset = {**offset, "read_at": datetime.datetime(2024, 1, 1)}
        return batch, offset


class NoRecords(TinyConnector):
    items = []


class AllNullRecord(TinyConnector):
    events = [*TinyConnector.events, {"event_id": None, "kind": None}]


class NullableSchema(TinyConnector):
    """Every column declared nullable, so only the primary-key rules can catch a null id."""

    def get_table_schema(self, table_name, table_options):
        schema = super().get_table_schema(table_name, table_options)
        return StructType([StructField(f.name, f.dataType, True) for f in schema.fields])


class NullPrimaryKey(NullableSchema):
    items = [*TinyConnector.items, {**tiny_item(4), "id": None}]


class NullNonNullableField(TinyConnector):
    items = [*TinyConnector.items, {**tiny_item(4), "updated_at": None}]


class UnparseableRecord(TinyConnector):
    items = [*TinyConnector.items, {**tiny_item(4), "owner": "not an object"}]


class NoDeletes(TinyConnector):
    deleted = []


class DeleteWithoutKey(NullableSchema):
    deleted = [{"id": None, "updated_at": "2024-01-09T00:00:00Z"}]


class DeleteWithoutCursor(NullableSchema):
    deleted = [{"id": 9, "updated_at": None}]


class UnparseableDelete(TinyConnector):
    deleted = [{"id": "nine", "updated_at": "2024-01-09T00:00:00Z"}]


class ColumnNeverFilled(TinyConnector):
    items = [{**item, "owner": {"login": "ada", "id": None}} for item in TinyConnector.items]


class KeepsALockAfterReading(TinyConnector):
    def read_table(self, table_name, start_offset, table_options):
        import threading

        self.lock = threading.Lock()  # like an open session's socket: cannot be pickled
        return super().read_table(table_name, start_offset, table_options)


# -- suites that misuse the allow-list --------------------------------------------------------------
class AllowListWithoutReason(TinySuite):
    null_columns = {"items": {"note": ""}}


class StaleAllowListEntry(TinySuite):
    null_columns = {"items": {"note": "never filled", "name": "the API never sends it"}}


class AllowListedUnknownColumn(TinySuite):
    null_columns = {"items": {"note": "never filled", "colour": "no such column"}}


BROKEN = [
    # (suite, rule (the suite's check), broken connector, what the failure says)
    (TinySuite, "test_list_tables_is_not_empty", NoTables, "no tables"),
    (TinySuite, "test_unknown_table_raises", SilentOnUnknownTable, "read_table accepts an unknown"),
    (TinySuite, "test_every_schema_is_a_struct_type", DictSchema, "{'id': 'long'}"),
    (TinySuite, "test_schema_and_metadata_are_the_same_on_every_call", SchemaChangesBetweenCalls,
     "the schema changed between two calls"),
    (TinySuite, "test_schema_and_metadata_are_the_same_on_every_call", MetadataChangesBetweenCalls,
     "the metadata changed between two calls"),
    (TinySuite, "test_schema_field_names_are_unique_and_integers_are_long", DuplicateFieldName,
     "duplicate field name owner.login"),
    (TinySuite, "test_schema_field_names_are_unique_and_integers_are_long", NestedIntegerType,
     "owner.id is IntegerType; use LongType"),
    (TinySuite, "test_metadata_is_valid_and_names_schema_fields", CursorFieldIsAList,
     "cursor_field .* is not a str"),
    (TinySuite, "test_metadata_is_valid_and_names_schema_fields", PrimaryKeyNotInSchema,
     "primary keys .* not in the schema"),
    (TinySuite, "test_read_table_returns_an_iterator_and_a_dict", ListInsteadOfIterator,
     "items: <class 'list'>"),
    (TinySuite, "test_first_read_returns_records", FirstReadEmpty,
     "the first read returned nothing"),
    (TinySuite, "test_offsets_reach_a_fixed_point", OffsetNeverSettles,
     "the offset still moved after 200 reads"),
    (TinySuite, "test_offsets_reach_a_fixed_point", RepeatsTheLastRecord,
     "records returned after the final offset"),
    (TinySuite, "test_offsets_are_json_serialisable", DatetimeInOffset,
     "is not JSON-serialisable"),
    (TinySuite, "test_records_convert_to_the_schema", NoRecords, "the test data has no records"),
    (TinySuite, "test_records_convert_to_the_schema", AllNullRecord, "every column is null"),
    (TinySuite, "test_records_convert_to_the_schema", NullPrimaryKey, "primary key id is null"),
    (TinySuite, "test_records_convert_to_the_schema", NullNonNullableField,
     "record does not parse: field 'updated_at' is not nullable"),
    (TinySuite, "test_records_convert_to_the_schema", UnparseableRecord,
     "record does not parse: .*owner"),
    (TinySuite, "test_deletes_are_read_for_cdc_with_deletes", NoDeletes,
     "the delete read returned nothing"),
    (TinySuite, "test_deletes_are_read_for_cdc_with_deletes", DeleteWithoutKey,
     "lacks its primary key id"),
    (TinySuite, "test_deletes_are_read_for_cdc_with_deletes", DeleteWithoutCursor,
     "lacks its cursor updated_at"),
    (TinySuite, "test_deletes_are_read_for_cdc_with_deletes", UnparseableDelete,
     "delete record does not parse: .*'id'"),
    (TinySuite, "test_connector_pickles_after_a_read", KeepsALockAfterReading,
     "does not pickle after a read"),
    (TinySuite, "test_every_column_holds_a_value_somewhere", ColumnNeverFilled,
     "columns null in every record: owner.id"),
    (AllowListWithoutReason, "test_every_column_holds_a_value_somewhere", TinyConnector,
     "null_columns\\['note'\\] needs a one-line reason"),
    (StaleAllowListEntry, "test_every_column_holds_a_value_somewhere", TinyConnector,
     "lists 'name' but records fill it"),
    (AllowListedUnknownColumn, "test_every_column_holds_a_value_somewhere", TinyConnector,
     "names unknown column 'colour'"),
]  # fmt: skip
SUITE_RULES = sorted(name for name in dir(LakeflowConnectTests) if name.startswith("test_"))


@pytest.mark.parametrize(
    ("suite", "rule", "connector_class", "message"),
    BROKEN,
    ids=[f"{rule.removeprefix('test_')}-{cls.__name__}" for _, rule, cls, _ in BROKEN],
)
def test_the_rule_fails_on_a_connector_that_breaks_it(suite, rule, connector_class, message):
    with pytest.raises(AssertionError, match=message):
        getattr(suite(), rule)(connector_class({}))


@pytest.mark.parametrize("rule", SUITE_RULES)
def test_the_tiny_connector_passes_the_rule(rule):
    """So each broken case above fails because of its break, not because the base is wrong."""
    getattr(TinySuite(), rule)(TinyConnector({}))


def test_every_rule_has_a_broken_connector():
    assert sorted({rule for _, rule, _, _ in BROKEN}) == SUITE_RULES
