"""How `nox -s spark` and `doit check:hubspot` read HubSpot in Spark: against the simulator."""

from contextlib import contextmanager

from sources.hubspot.test.simulator import HubspotSimulator
from tools.lakeflow.spark_check import SparkCase


@contextmanager
def spark_case():
    with HubspotSimulator(seed=4, per_object=8) as sim:

        def change():
            sim.update_object("contacts", "101", firstname="Changed")
            sim.add_object("deals")
            sim.archive("tickets", "102")
            return {}

        yield SparkCase(options=sim.connection_options(), change=change)
