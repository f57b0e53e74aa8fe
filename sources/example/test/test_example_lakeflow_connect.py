"""The example connector: the shared suite, plus incremental reads and deletes after changes."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from libs.utils import record_to_row
from sources.example.example import ExampleLakeflowConnect
from sources.example.simulated_source import EXAMPLE_EPOCH, example_store, reset_example_stores
from sources.interface.lakeflow_connect import read_to_fixed_point
from tests.connector_suite import LakeflowConnectTests

_ids = itertools.count()


@pytest.fixture
def options():
    # A fresh, independent data set per test.
    reset_example_stores()
    return {"api_key": "test-key", "seed": "7", "source_id": f"test-{next(_ids)}"}


class TestExampleConnector(LakeflowConnectTests):
    connector_class = ExampleLakeflowConnect
    table_options = {"customers": {"page_size": "4"}}

    @pytest.fixture
    def connector(self, options):
        return ExampleLakeflowConnect(options)


def read_all(connector, table, offset=None, options=None, deletes=False):
    return read_to_fixed_point(
        connector, table, offset, options or {"page_size": "4"}, deletes=deletes
    )


def test_same_seed_gives_the_same_data(options):
    first, _ = read_all(ExampleLakeflowConnect(options), "orders")
    reset_example_stores()
    second, _ = read_all(ExampleLakeflowConnect(options), "orders")
    assert first == second and len(first) == 30


def test_paging_takes_several_calls(options):
    connector = ExampleLakeflowConnect(options)
    batch, offset = connector.read_table("customers", None, {"page_size": "5"})
    assert len(list(batch)) == 5 and offset["id"]


def test_incremental_read_returns_only_changed_records(options):
    connector = ExampleLakeflowConnect(options)
    _, offset = read_all(connector, "customers")
    store = example_store(7, options["source_id"])
    store.update_customer(3, email="new@example.com")
    added = store.add_customer()
    changed, _ = read_all(ExampleLakeflowConnect(options), "customers", offset)
    assert [r["id"] for r in changed] == [3, added["id"]]
    assert changed[0]["email"] == "new@example.com"


def test_deletes_come_through_the_delete_flow(options):
    connector = ExampleLakeflowConnect(options)
    _, delete_offset = read_all(connector, "orders", deletes=True)
    store = example_store(7, options["source_id"])
    store.delete_order(4)
    store.delete_order(9)
    deleted, _ = read_all(connector, "orders", delete_offset, deletes=True)
    assert [d["id"] for d in deleted] == [4, 9]
    orders, _ = read_all(connector, "orders")
    assert {4, 9}.isdisjoint(r["id"] for r in orders)


def test_append_reads_only_new_events(options):
    connector = ExampleLakeflowConnect(options)
    _, offset = read_all(connector, "events")
    example_store(7, options["source_id"]).append_events(3)
    new, _ = read_all(connector, "events", offset)
    assert [e["event_id"] for e in new] == [26, 27, 28]


def test_snapshot_is_reread_only_when_the_data_changes(options):
    connector = ExampleLakeflowConnect(options)
    products, offset = read_all(connector, "products")
    assert len(products) == 7
    assert list(connector.read_table("products", offset, {})[0]) == []
    example_store(7, options["source_id"]).change_product(2, name="renamed")
    again, _ = read_all(connector, "products", offset)
    assert len(again) == 7 and again[1]["name"] == "renamed"


def test_event_times_are_epoch_milliseconds_read_by_the_one_timestamp_rule(options):
    connector = ExampleLakeflowConnect(options)
    events, _ = read_all(connector, "events")
    schema = connector.get_table_schema("events", {})
    for event in events:
        assert isinstance(event["occurred_at"], int) and event["occurred_at"] >= 1e11  # millis
        row = record_to_row(event, schema)
        assert row.occurred_at == EXAMPLE_EPOCH + timedelta(seconds=event["event_id"] * 37)


def test_missing_api_key_is_a_clear_error():
    with pytest.raises(ValueError, match="api_key required"):
        ExampleLakeflowConnect({"seed": "1"})


def test_change_rounds_replay_the_same_changes_in_any_process(options):
    before = ExampleLakeflowConnect(options)
    after = ExampleLakeflowConnect({**options, "changes": "1"})
    _, offset = read_all(before, "customers")
    changed, _ = read_all(after, "customers", offset)
    assert len(changed) == 2  # one customer updated, one added
    deleted_before, delete_offset = read_all(before, "orders", deletes=True)
    assert [d["id"] for d in deleted_before] == [31, 32]  # deleted when the store was seeded
    deleted, _ = read_all(after, "orders", delete_offset, deletes=True)
    assert [d["id"] for d in deleted] == [30]
    again = ExampleLakeflowConnect({**options, "changes": "1", "source_id": "elsewhere"})
    assert read_all(again, "customers")[0] == read_all(after, "customers")[0]
