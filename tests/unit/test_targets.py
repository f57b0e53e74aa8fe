"""targets.yaml: loading, validation and which target is selected."""

from __future__ import annotations

import pytest

from tools.lakeflow.errors import LakeflowError
from tools.lakeflow.targets import Target, load_targets, selected_target


def test_without_a_targets_file_the_local_target_is_the_default(repo):
    targets, default = load_targets(repo.root)
    assert default == "local"
    assert targets == {"local": Target(name="local", kind="local")}


def test_defaults_of_a_target(repo):
    repo.write("targets.yaml", "targets:\n  dev:\n    host: https://x.example.com\n")
    target = load_targets(repo.root)[0]["dev"]
    assert target.kind == "databricks"
    assert (target.catalog, target.schema) == ("main", "{user}_{source}")
    assert target.workspace_root == "/Workspace/Users/{user_name}"


def test_every_field_is_read(repo):
    repo.write(
        "targets.yaml",
        """\
        default: dev
        targets:
          dev:
            kind: databricks
            profile: DEV
            catalog: c
            schema: s_{source}
            workspace_root: /Shared/{user}
        """,
    )
    targets, default = load_targets(repo.root)
    assert default == "dev"
    assert targets["dev"] == Target(
        name="dev", kind="databricks", catalog="c", schema="s_{source}",
        workspace_root="/Shared/{user}", profile="DEV",
    )  # fmt: skip


def test_an_empty_target_entry_is_a_databricks_target_needing_auth(repo):
    repo.write("targets.yaml", "targets:\n  bare:\n")
    with pytest.raises(LakeflowError, match="needs a profile or a host") as error:
        load_targets(repo.root)
    assert error.value.file == "targets.yaml" and error.value.field == "targets.bare"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ("targets:\n  a:\n    kind: local\n    colour: red\n", "targets.a.colour", "unknown field"),
        ("targets:\n  a:\n    kind: cloud\n", "targets.a.kind", "expected local or databricks"),
        ("targets:\n  a:\n    kind: databricks\n", "targets.a", "a profile or a host"),
    ],
)
def test_bad_targets_name_the_field(repo, body, field, message):
    repo.write("targets.yaml", body)
    with pytest.raises(LakeflowError, match=message) as error:
        load_targets(repo.root)
    assert error.value.field == field
    assert str(error.value).startswith(f"targets.yaml: {field}: ")


def test_the_environment_selects_a_target(repo, monkeypatch):
    repo.write(
        "targets.yaml",
        "default: local\ntargets:\n  local:\n    kind: local\n  dev:\n    host: https://h\n",
    )
    assert selected_target(repo.root).name == "local"
    monkeypatch.setenv("LAKEFLOW_TARGET", "dev")
    assert selected_target(repo.root).host == "https://h"


def test_an_unknown_selected_target_lists_the_defined_ones(repo, monkeypatch):
    monkeypatch.setenv("LAKEFLOW_TARGET", "prod")
    with pytest.raises(LakeflowError, match=r"unknown target 'prod' \(defined: local\)") as error:
        selected_target(repo.root)
    assert error.value.field == "LAKEFLOW_TARGET"


def test_an_unknown_default_is_refused(repo, monkeypatch):
    monkeypatch.delenv("LAKEFLOW_TARGET", raising=False)
    repo.write("targets.yaml", "default: nowhere\ntargets:\n  local:\n    kind: local\n")
    with pytest.raises(LakeflowError, match="unknown target 'nowhere'"):
        selected_target(repo.root)


def test_the_repos_own_targets_file_is_valid():
    from tools.lakeflow import project

    targets, default = load_targets(project.REPO_ROOT)
    assert default in targets
