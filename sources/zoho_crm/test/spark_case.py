"""How `nox -s spark` and `doit check:zoho_crm` read Zoho CRM in Spark: against the simulator."""

from contextlib import contextmanager

from sources.zoho_crm.test.simulator import ZohoSimulator
from tools.lakeflow.spark_check import SparkCase


@contextmanager
def spark_case():
    with ZohoSimulator(seed=2, per_module=6) as sim:

        def change():
            first = sim.records["Leads"].values()[0]["id"]
            sim.records["Leads"].update(first, Company="Changed")
            sim.add_record("Deals")
            sim.records["Accounts"].delete(sim.records["Accounts"].values()[0]["id"])
            return {}

        yield SparkCase(
            options=sim.connection_options(),
            change=change,
        )
