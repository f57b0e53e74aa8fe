"""Each service of the local workspace through the real databricks-sdk, for the endpoints that the
engine's own deploy tests do not reach (secrets, job settings) and the route table's edges."""

from __future__ import annotations

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import NotFound, ResourceAlreadyExists

from tools.local_workspace import LocalWorkspace


@pytest.fixture
def workspace(tmp_path):
    with LocalWorkspace(tmp_path / "ws") as ws:
        yield ws


@pytest.fixture
def sdk(workspace) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=workspace.url, token=workspace.token))


def test_secret_scopes_hold_secrets_and_list_only_their_keys(sdk):
    sdk.secrets.create_scope("lakeflow")
    sdk.secrets.put_secret("lakeflow", "api_key", string_value="s3cr3t")
    listed = list(sdk.secrets.list_secrets("lakeflow"))
    assert [s.key for s in listed] == ["api_key"]
    assert "s3cr3t" not in repr(listed)
    with pytest.raises(ResourceAlreadyExists):
        sdk.secrets.create_scope("lakeflow")
    with pytest.raises(NotFound):
        sdk.secrets.put_secret("missing", "k", string_value="v")


def test_job_settings_are_created_read_and_reset(sdk):
    job_id = sdk.api_client.do("POST", "/api/2.2/jobs/create", body={"name": "nightly"})["job_id"]
    new_settings = {"name": "nightly", "max_concurrent_runs": 2}
    sdk.api_client.do(
        "POST", "/api/2.2/jobs/reset", body={"job_id": job_id, "new_settings": new_settings}
    )
    job = sdk.jobs.get(job_id)
    assert (job.settings.name, job.settings.max_concurrent_runs) == ("nightly", 2)


def test_an_endpoint_the_workspace_does_not_serve_is_a_404(sdk):
    with pytest.raises(NotFound, match="no such endpoint"):
        sdk.api_client.do("GET", "/api/2.0/clusters/list")
