"""The embedded local Databricks workspace: the REST subset deploy uses, served on loopback.

Layout: server.py (HTTP, LocalWorkspace), router.py (route table), api.py (what handlers share),
store.py (state on disk), and one module per service: scim, workspace_files, unity_catalog,
pipelines, jobs, secrets.
"""

from tools.local_workspace.server import LocalWorkspace, default_state_dir

__all__ = ["LocalWorkspace", "default_state_dir"]
