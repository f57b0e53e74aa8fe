"""The upstream-layout fixtures (tests/compat/fixtures/) merged, registered and read in real Spark:
batch, metadata, availableNow streams, partitioned reads and a restarted stream, all through one
SparkSession (the spark session's tests share it)."""

from __future__ import annotations

import pytest

from libs import runtime_names
from tests.compat.scratch_repo import FIXTURE_NAMES, scratch_repo
from tools.lakeflow import merge, spark_check

pytestmark = pytest.mark.spark

# Each fixture's tables and how they are ingested (every table holds `item_count` items).
TABLES = {
    "default_metadata": {"items": "cdc"},  # no ingestion_type in its metadata
    "partitioned": {"items": "append"},
    "all_rules": {"items": "append", "events": "cdc"},
}


@pytest.fixture(scope="module")
def spark():
    return spark_check.new_spark_session()  # getOrCreate: one JVM for every Spark test


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return scratch_repo(tmp_path_factory.mktemp("upstream"), FIXTURE_NAMES)


def register(spark, repo, name: str):
    merge.write_merged(name, repo)
    return spark_check.load_merged(spark, name, repo)


def read(spark, table: str, **options):
    source = spark.read.format(runtime_names.DATA_SOURCE_NAME)
    return source.option(runtime_names.OPTION_TABLE_NAME, table).options(**options).load()


def stream(spark, table: str, folder, **options) -> int:
    """One availableNow run into parquet with a checkpoint; the rows in the output so far."""
    query = (
        spark.readStream.format(runtime_names.DATA_SOURCE_NAME)
        .option(runtime_names.OPTION_TABLE_NAME, table)
        .options(**options)
        .load()
        .writeStream.format("parquet")
        .option("path", str(folder / "out"))
        .option("checkpointLocation", str(folder / "checkpoint"))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    assert query.exception() is None, query.exception()
    return spark.read.parquet(str(folder / "out")).count()


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_upstream_fixture_reads_in_batch_and_as_an_available_now_stream(
    spark, repo, tmp_path, name
):
    register(spark, repo, name)
    tables = TABLES.get(name, {"items": "cdc"})
    metadata = read(
        spark,
        runtime_names.METADATA_TABLE,
        **{runtime_names.OPTION_TABLE_NAME_LIST: ",".join(tables)},
    ).collect()
    assert {row.tableName: row.ingestion_type for row in metadata} == tables
    if name == "all_rules":  # SupportsNamespaces, through upstream's virtual tables
        found = read(spark, runtime_names.TABLES_TABLE, namespace='["shop"]').collect()
        assert sorted((tuple(r.namespace), r.tableName) for r in found) == [
            (("shop",), "events"),
            (("shop",), "items"),
        ]
    for table in tables:
        # 3, not 6: upstream's batch protocol is one read_table call (upstream_protocol relies on it).
        assert sorted(r.id for r in read(spark, table, item_count="3").collect()) == [1, 2, 3]
        assert stream(spark, table, tmp_path / table, item_count="3") == 3


@pytest.mark.parametrize("name", ["partitioned", "all_rules"])
def test_partitioned_reads_are_spark_partitions_and_a_restarted_stream_resumes(
    spark, repo, tmp_path, name
):
    register(spark, repo, name)
    frame = read(spark, "items", item_count="4")
    assert frame.rdd.getNumPartitions() == 4  # one input partition per descriptor
    assert sorted(r.id for r in frame.collect()) == [1, 2, 3, 4]
    assert stream(spark, "items", tmp_path, item_count="3") == 3
    # The source grows; the same checkpoint resumes after the committed offset.
    assert stream(spark, "items", tmp_path, item_count="5") == 5


def test_the_check_of_a_copied_folder_without_a_simulator_registers_and_lists_tables(spark, repo):
    merge.write_merged("upstream_package", repo)
    report = spark_check.check_source("upstream_package", spark, repo)
    assert report[0].startswith("registered UpstreamPackageLakeflowConnect")
    assert report[1] == "tables: items"
