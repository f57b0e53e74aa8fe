# Databricks notebook source
# Deploy a connector's notebook pipelines from its preset, from inside a workspace (repo synced
# into Databricks Repos; no local CLI). It calls the same engine as `doit notebook_deploy:<c>`.

# COMMAND ----------

import os
import sys

dbutils.widgets.text("connector", "example")  # noqa: F821 - provided by the notebook runtime
connector = dbutils.widgets.get("connector")  # noqa: F821

# The repo root: this notebook lives in tools/notebook_based_deployment/workspace_notebooks/.
repo_root = os.path.abspath(os.path.join(os.getcwd(), "..", "..", ".."))
if repo_root not in sys.path:
    sys.path.insert(0, repo_root)

# COMMAND ----------

from databricks.sdk import WorkspaceClient  # noqa: E402

from tools.notebook_based_deployment.deployer import deploy_from_preset  # noqa: E402

# In a workspace the client authenticates as the notebook's user; state lives under the repo's
# .lakeflow/ like a local run, so repeated runs change only what changed.
deploy_from_preset(connector, client=WorkspaceClient())
