"""How `nox -s spark` and `doit check:osipi` read PI in Spark: against the simulator."""

from contextlib import contextmanager

from sources.osipi.test.simulator import PiSimulator
from tools.lakeflow.spark_check import SparkCase


@contextmanager
def spark_case():
    with PiSimulator(seed=1, values_per_point=20) as sim:

        def change():
            sim.append_values(sim.points[0]["WebId"], 5)
            return {}

        yield SparkCase(
            options=sim.connection_options(),
            change=change,
        )
