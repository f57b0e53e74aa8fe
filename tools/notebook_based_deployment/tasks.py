"""What the notebook doit tasks call. The deployer is imported on first use: it imports
databricks-sdk (about two seconds), which plain `doit` should not pay; generating does not."""

from __future__ import annotations


def generate_notebooks(name: str) -> None:
    from tools.notebook_based_deployment import generate

    generate.generate_from_preset(name)


def deploy_notebooks(name: str) -> None:
    from tools.notebook_based_deployment import deployer

    deployer.deploy_from_preset(name)


def plan_notebooks(name: str) -> None:
    from tools.notebook_based_deployment import deployer

    deployer.plan_from_preset(name)
