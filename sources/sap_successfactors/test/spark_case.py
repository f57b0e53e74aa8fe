"""How `nox -s spark` and `doit check:sap_successfactors` read SuccessFactors in Spark."""

from contextlib import contextmanager

from sources.sap_successfactors.test.simulator import (
    SuccessFactorsSimulator,
)
from tools.lakeflow.spark_check import SparkCase


@contextmanager
def spark_case():
    with SuccessFactorsSimulator(seed=8, users=10) as sim:
        sim.page_size = 4

        def change():
            sim.entities["User"].update("u1002", department="Finance")
            sim.add_user()
            return {}

        yield SparkCase(
            options=sim.connection_options(),
            change=change,
        )
