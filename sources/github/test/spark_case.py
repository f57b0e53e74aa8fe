"""How `nox -s spark` and `doit check:github` read GitHub in Spark: against the simulator."""

from contextlib import contextmanager

from sources.github.test.simulator import GithubSimulator
from tools.lakeflow.spark_check import SparkCase

OWNER, REPO = "octo-org", "hello-world"
TABLES = ("issues", "pull_requests", "commits", "issue_comments", "repository", "contributors")


@contextmanager
def spark_case():
    with GithubSimulator(seed=3) as sim:

        def change():
            issues = sorted(i["number"] for i in sim.issues)
            sim.update_issue(issues[0], title="changed in the spark check")
            sim.add_issue("added in the spark check")
            sim.add_commit("a new commit")
            sim.add_comment(issues[1], "a new comment")
            return {}

        yield SparkCase(
            options=sim.connection_options(),
            table_options={table: {"owner": OWNER, "repo": REPO} for table in TABLES},
            change=change,
        )
