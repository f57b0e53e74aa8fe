"""How `nox -s spark` and `doit check:zendesk` read Zendesk in Spark: against the simulator."""

from contextlib import contextmanager

from sources.zendesk.test.simulator import ZendeskSimulator
from tools.lakeflow.spark_check import SparkCase


@contextmanager
def spark_case():
    with ZendeskSimulator(seed=2) as sim:

        def change():
            sim.tickets.update(2, status="solved")
            sim.add_ticket("added in the spark check")
            sim.tickets.delete(4)
            sim.users.update(9001, name="changed")
            sim.add_comment(1, "a new comment")
            return {}

        yield SparkCase(
            options=sim.connection_options(),
            change=change,
        )
