"""The shared connector suite, run against the GitHub simulator."""

from __future__ import annotations

import pytest

from sources.github.github import GithubLakeflowConnect
from sources.github.test.simulator import TOKEN, GithubSimulator
from tests.connector_suite import LakeflowConnectTests

REPO = {"owner": "octo-org", "repo": "hello-world"}


class TestGithubSharedSuite(LakeflowConnectTests):
    table_options = {
        table: REPO
        for table in (
            "issues",
            "pull_requests",
            "commits",
            "issue_comments",
            "repository",
            "contributors",
        )
    }

    @pytest.fixture
    def connector(self):
        with GithubSimulator(seed=11) as sim:
            yield GithubLakeflowConnect({"token": TOKEN, "base_url": sim.url})
