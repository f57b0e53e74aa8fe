"""How `nox -s spark` and `doit check:osipi` read PI in Spark: against the simulator."""

from contextlib import contextmanager

from sources.osipi.test.simulator import CLIENT_ID, CLIENT_SECRET, PiSimulator
from tools.lakeflow.spark_check import SparkCase


@contextmanager
def spark_case():
    with PiSimulator(seed=1, values_per_point=20) as sim:

        def change():
            sim.append_values(sim.points[0]["WebId"], 5)
            return {}

        yield SparkCase(
            options={
                "base_url": f"{sim.url}/piwebapi",
                "token_url": f"{sim.url}/identity/connect/token",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },  # fmt: skip
            change=change,
        )
