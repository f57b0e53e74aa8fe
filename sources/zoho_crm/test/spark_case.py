"""How `nox -s spark` and `doit check:zoho_crm` read Zoho CRM in Spark: against the simulator."""

from contextlib import contextmanager

from sources.zoho_crm.test.simulator import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, ZohoSimulator
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
            options={
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "refresh_token": REFRESH_TOKEN,
                "accounts_url": sim.url,
                "api_url": sim.url,
            },  # fmt: skip
            change=change,
        )
