"""Every merged connector, proven in a real local SparkSession (`nox -s spark`)."""

from __future__ import annotations

import ast

import pytest

from tools.lakeflow import project, spark_check
from tools.lakeflow.errors import LakeflowError

pytestmark = pytest.mark.spark


@pytest.fixture(scope="session")
def spark():
    session = spark_check.new_spark_session()
    yield session
    session.stop()


@pytest.mark.parametrize("name", project.source_names())
def test_merged_connector_reads_in_spark(spark, name):
    report = spark_check.check_source(name, spark)
    print(f"{name}: " + "; ".join(report))
    assert any(line.startswith("batch ") for line in report)


def without_function(text: str, function: str) -> str:
    """The merged file with one helper's definition removed, as a broken merge would leave it."""
    tree = ast.parse(text)
    register = next(n for n in tree.body if isinstance(n, ast.FunctionDef))
    before = len(register.body)
    register.body = [
        n for n in register.body if not (isinstance(n, ast.FunctionDef) and n.name == function)
    ]
    assert len(register.body) == before - 1, f"{function} not found in the merged file"
    return ast.unparse(tree)


def test_a_broken_merged_file_fails_naming_connector_table_and_exception(spark, tmp_path):
    text = project.generated_file("example").read_text()
    broken = without_function(text, "_to_integer")
    with spark_check.spark_case("example") as case:
        check = spark_check.SparkCheck(spark, "example", case, tmp_path)
        with pytest.raises(LakeflowError) as error:
            check.run(text=broken)
    message = str(error.value)
    assert message.startswith("example.products: batch read failed")
    assert "ExampleLakeflowConnect" in message and "'products'" in message
    assert "NameError" in message and "_to_integer" in message
