"""Inputs checked before any write: the spec against the connector itself, and hand-edited merges.

Deploys run the real doit and databricks-sdk against the sandbox's local workspace.
"""

from __future__ import annotations

import socket

import pytest

from tests.engine import test_deploy
from tests.engine.test_deploy import deploy, uploads
from tools.lakeflow import project, spec_checks, specs
from tools.lakeflow.errors import LakeflowError

box, workspace = test_deploy.box, test_deploy.workspace  # the deploy tests' sandbox fixtures


@pytest.mark.parametrize(
    ("old", "new", "field", "reason"),
    [
        (
            "source_table: orders",
            "source_table: order",
            "objects[2].table.source_table",
            "'order' is not a table the example connector lists",
        ),
        (
            "sequence_by: updated_at",
            "sequence_by: updated",
            "objects[2].table.table_configuration.sequence_by",
            "'updated' is not a column of orders",
        ),
        (
            "primary_keys: '[\"id\"]'",
            "primary_keys: '[\"order_id\"]'",
            "objects[2].table.table_configuration.primary_keys",
            "'order_id' is not a column of orders",
        ),
    ],
)
def test_a_spec_the_connector_contradicts_is_refused_before_any_write(
    box, workspace, old, new, field, reason
):
    """The deploy's read-only checks may already be under way (they overlap the connector
    check since 975e3ca); no write, not even the deploy lock, may happen. A check that passed
    before (and is skipped while nothing it covers changed) does not hide the new mistake."""
    deploy(box)
    path = box.root / "sources/example/pipeline_spec.yaml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new))
    before = len(workspace.requests())
    result = deploy(box, check=False)
    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert f"sources/example/pipeline_spec.yaml: {field}: {reason}" in error
    assert [r for r in workspace.requests()[before:] if r["method"] != "GET"] == []


def test_a_connector_that_needs_the_network_to_list_is_not_checked_offline():
    """The check asks only what the connector answers offline; it never reaches a socket."""

    class NeedsApi:
        def __init__(self, options):
            self.options = options

        def list_tables(self):
            socket.create_connection(("127.0.0.1", 9), timeout=1)
            return ["never"]

    with spec_checks.no_network(), pytest.raises(spec_checks.NetworkBlocked):
        NeedsApi({}).list_tables()
    assert spec_checks._offline(NeedsApi({}).list_tables) is None
    # And the real example connector, listing offline, refuses a table it does not have.
    objects = [*specs.load_pipeline_spec("example").objects, {"table": {"source_table": "nope"}}]
    with pytest.raises(LakeflowError, match="'nope' is not a table the example connector lists"):
        spec_checks.check_against_connector("example", objects, {"api_key": "k"}, project.REPO_ROOT)


def test_a_hand_edited_merged_file_is_reported_and_regenerated_not_deployed(box, workspace):
    deploy(box)
    generated = box.root / "sources/example/_generated_example_python_source.py"
    merged = generated.read_text()
    generated.write_text(merged + "\nHAND_EDIT = 1\n")
    result = deploy(box)
    assert "_generated_example_python_source.py: edited by hand, not by the merge" in result.stderr
    assert generated.read_text() == merged
    assert uploads(result) == {}, "the hand edit reached the workspace"
