"""`ingest()` declares the right tables and flows for each ingestion type and table configuration.

`pyspark.pipelines` is replaced by a recorder (it is not the databricks SDK), and the metadata read
goes through the real `lakeflow_connect` reader logic with the example connector, without a JVM.
"""

from __future__ import annotations

import sys
import types

import pytest

from pipeline import ingestion_pipeline
from pipeline.lakeflow_python_source import metadata_rows
from sources.example.example import ExampleLakeflowConnect


class Recorder(types.ModuleType):
    """Records every pipelines API call by name."""

    def __init__(self):
        super().__init__("pyspark.pipelines")
        self.calls: list[tuple[str, dict]] = []
        self.views: dict[str, object] = {}

    def create_streaming_table(self, name, **kwargs):
        self.calls.append(("create_streaming_table", {"name": name, **kwargs}))

    def create_auto_cdc_flow(self, **kwargs):
        self.calls.append(("create_auto_cdc_flow", kwargs))

    def create_auto_cdc_from_snapshot_flow(self, **kwargs):
        self.calls.append(("create_auto_cdc_from_snapshot_flow", kwargs))

    def temporary_view(self, name):
        def register(fn):
            self.views[name] = fn
            return fn

        return register

    def append_flow(self, target, name=None):
        def register(fn):
            self.calls.append(("append_flow", {"target": target, "name": name}))
            return fn

        return register


class FakeReader:
    """spark.read / spark.readStream: collects options; `load()` answers like lakeflow_connect."""

    def __init__(self, streaming, connector_class):
        self.streaming, self.options_seen = streaming, {}
        self.connector_class = connector_class

    def format(self, name):
        assert name == "lakeflow_connect"
        return self

    def option(self, key, value):
        self.options_seen[key] = value
        return self

    def options(self, **more):
        self.options_seen.update(more)
        return self

    def load(self):
        return self

    def collect(self):
        options = {"api_key": "k", **self.options_seen}
        rows = metadata_rows(self.connector_class, options)
        names = ("tableName", "primary_keys", "cursor_field", "ingestion_type")
        return [FakeRow(dict(zip(names, row, strict=True))) for row in rows]


class FakeRow(dict):
    def asDict(self):  # noqa: N802 - pyspark's name
        return dict(self)


class FakeSpark:
    def __init__(self, connector_class=ExampleLakeflowConnect):
        self.connector_class = connector_class

    @property
    def read(self):
        return FakeReader(False, self.connector_class)

    @property
    def readStream(self):  # noqa: N802 - pyspark's name
        return FakeReader(True, self.connector_class)


@pytest.fixture
def dp(monkeypatch):
    recorder = Recorder()
    monkeypatch.setitem(sys.modules, "pyspark.pipelines", recorder)
    import pyspark

    monkeypatch.setattr(pyspark, "pipelines", recorder, raising=False)
    return recorder


def table(source, **config):
    entry = {"source_table": source}
    if config:
        entry["table_configuration"] = config
    return {"table": entry}


def calls(dp, name):
    return [kwargs for call, kwargs in dp.calls if call == name]


def test_each_ingestion_type_gets_its_flows(dp):
    declared = ingestion_pipeline.ingest(
        FakeSpark(),
        {
            "connection_name": "example_connection",
            "objects": [table("products"), table("customers", scd_type="SCD_TYPE_2"),
                        table("orders"), table("events", page_size="3")],
        },
    )  # fmt: skip
    assert declared == {
        "products": "snapshot",
        "customers": "cdc",
        "orders": "cdc_with_deletes",
        "events": "append",
    }
    assert [c["name"] for c in calls(dp, "create_streaming_table")] == [
        "products", "customers", "orders", "events",
    ]  # fmt: skip
    snapshot = calls(dp, "create_auto_cdc_from_snapshot_flow")
    assert snapshot == [{"target": "products", "source": "products_lakeflow_source",
                         "keys": ["id"], "stored_as_scd_type": 1}]  # fmt: skip
    cdc = calls(dp, "create_auto_cdc_flow")
    customers, orders, order_deletes = cdc
    assert (customers["target"], customers["keys"], customers["sequence_by"]) == (
        "customers", ["id"], "updated_at",
    )  # fmt: skip
    assert customers["stored_as_scd_type"] == 2 and "apply_as_deletes" not in customers
    assert orders["stored_as_scd_type"] == 1 and "apply_as_deletes" not in orders
    assert order_deletes["apply_as_deletes"] == "true" and order_deletes["target"] == "orders"
    assert calls(dp, "append_flow") == [{"target": "events", "name": "events_append"}]
    delete_view = dp.views["orders_lakeflow_deletes"]()
    assert delete_view.options_seen["isDeleteFlow"] == "true"
    assert delete_view.options_seen["databricks.connection"] == "example_connection"


def test_table_configuration_overrides_the_connector(dp):
    ingestion_pipeline.ingest(
        FakeSpark(),
        {
            "connection_name": "example_connection",
            "objects": [
                {"table": {"source_table": "customers", "destination_catalog": "cat",
                           "destination_schema": "sch", "destination_table": "people",
                           "table_configuration": {"primary_keys": '["email"]',
                                                   "sequence_by": "id", "page_size": "2"}}},
                table("orders", scd_type="APPEND_ONLY"),
            ],
        },
    )  # fmt: skip
    (flow,) = calls(dp, "create_auto_cdc_flow")
    assert flow["target"] == "cat.sch.people"
    assert (flow["keys"], flow["sequence_by"]) == (["email"], "id")
    assert dp.views["people_lakeflow_source"]().options_seen["page_size"] == "2"
    assert calls(dp, "append_flow") == [{"target": "orders", "name": "orders_append"}]


def test_a_bad_spec_fails_before_anything_is_declared(dp):
    with pytest.raises(ValueError, match=r"objects\[0\]\.table\.table_configuration\.scd_type"):
        ingestion_pipeline.ingest(
            FakeSpark(), {"connection_name": "c", "objects": [table("orders", scd_type="X")]}
        )
    assert dp.calls == []


class SparseMetadataConnector(ExampleLakeflowConnect):
    """Metadata as upstream allows it: customers names only a cursor, orders nothing at all."""

    def read_table_metadata(self, table_name, table_options):
        return {"cursor_field": "updated_at"} if table_name == "customers" else {}


def test_missing_ingestion_type_is_cdc_and_missing_keys_fail_saying_what_to_set(dp):
    spark = FakeSpark(SparseMetadataConnector)
    with pytest.raises(ValueError) as error:
        ingestion_pipeline.ingest(spark, {"connection_name": "c", "objects": [table("customers")]})
    assert str(error.value).startswith(
        "table 'customers' is ingested as cdc, which needs primary_keys: the connector's "
        "read_table_metadata gives none, so set table_configuration.primary_keys"
    )
    assert dp.calls == []
    with pytest.raises(ValueError, match="needs cursor_field.*table_configuration.sequence_by"):
        spec = {"connection_name": "c", "objects": [table("orders", primary_keys='["id"]')]}
        ingestion_pipeline.ingest(spark, spec)
    objects = [table("customers", primary_keys='["id"]')]
    declared = ingestion_pipeline.ingest(spark, {"connection_name": "c", "objects": objects})
    assert declared == {"customers": "cdc"}
    (flow,) = calls(dp, "create_auto_cdc_flow")
    assert (flow["keys"], flow["sequence_by"]) == (["id"], "updated_at")
