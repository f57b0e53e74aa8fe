"""The embedded local Databricks workspace (see server.py)."""

from tools.lakeflow.local_workspace.server import LocalWorkspace, default_state_dir

__all__ = ["LocalWorkspace", "default_state_dir"]
