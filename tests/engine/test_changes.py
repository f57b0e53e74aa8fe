"""Changed-only selection for `nox -s test -- --since <ref>`."""

from __future__ import annotations

import subprocess

import pytest

from tools.lakeflow import changes
from tools.lakeflow.errors import LakeflowError

SOURCES = ["example", "github", "zendesk"]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["sources/github/github.py"], {"github"}),
        (["sources/github/test/simulator.py", "sources/example/README.md"], {"github", "example"}),
        (["libs/utils.py"], {*SOURCES, "engine"}),
        (["pipeline/lakeflow_python_source.py"], {*SOURCES, "engine"}),
        (["sources/interface/lakeflow_connect.py"], {*SOURCES, "engine"}),
        (["tests/connector_suite.py"], {*SOURCES, "engine"}),
        (["tools/lakeflow/sync.py"], {"engine"}),
        (["README.md"], {"engine"}),
        ([], set()),
    ],
)
def test_affected_targets(paths, expected):
    assert changes.affected_targets(paths, SOURCES) == expected


def test_changed_files_since_a_ref_include_uncommitted_and_untracked(tmp_path):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (tmp_path / "a.txt").write_text("1")
    git("add", "a.txt")
    git("commit", "-qm", "first")
    (tmp_path / "a.txt").write_text("2")
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "new.py").write_text("")
    assert changes.changed_files("HEAD", tmp_path) == ["a.txt", "sources/new.py"]
    with pytest.raises(LakeflowError, match="--since"):
        changes.changed_files("no-such-ref", tmp_path)
