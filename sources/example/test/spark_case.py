"""How `nox -s spark` and `doit check:example` read the example in Spark."""

from contextlib import contextmanager

from tools.lakeflow.spark_check import SparkCase


@contextmanager
def spark_case():
    # Spark reads in worker processes, so the change travels as an option: one change round.
    yield SparkCase(
        options={"api_key": "spark-check", "seed": "11", "source_id": "spark"},
        table_options={
            "customers": {"page_size": "6"},
            "orders": {"page_size": "50"},
            "events": {"page_size": "50"},
        },
        change=lambda: {"changes": "1"},
    )
