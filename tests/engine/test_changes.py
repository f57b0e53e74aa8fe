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


NOX_LIST = [  # the shape of `nox -l --json`
    {"session": "lint", "name": "lint", "call_spec": {}},
    *(
        {"session": f"test({t})", "name": "test", "call_spec": {"target": t}}
        for t in [*SOURCES, "engine"]
    ),
    {"session": "spark", "name": "spark", "call_spec": {}},
]


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        (["sources/github/github.py"], ["lint", "test(github)", "spark"]),
        (["libs/utils.py"], [s["session"] for s in NOX_LIST]),
        (["tools/lakeflow/sync.py"], ["lint", "test(engine)", "spark"]),
        (None, [s["session"] for s in NOX_LIST]),  # nothing to compare with: everything
    ],
)
def test_ci_sessions_keep_only_the_affected_test_sessions(paths, expected):
    assert changes.ci_sessions(NOX_LIST, paths, SOURCES) == expected


def test_the_ci_matrix_command_reads_nox_json_and_falls_back_to_everything(monkeypatch, capsys):
    import io
    import json

    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(NOX_LIST)))
    assert changes.main(["--since", "no-such-ref-anywhere"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {"session": [s["session"] for s in NOX_LIST]}
    assert "no-such-ref-anywhere" in err


def test_the_workflow_builds_its_matrix_from_nox_and_the_since_selection():
    import yaml

    from tools.lakeflow import project

    workflow = yaml.safe_load((project.REPO_ROOT / ".github/workflows/ci.yml").read_text())
    plan = "\n".join(step.get("run", "") for step in workflow["jobs"]["plan"]["steps"])
    assert "nox -l --json" in plan and "tools.lakeflow.changes --since" in plan
    session = workflow["jobs"]["session"]
    assert session["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    cached = [s["with"]["path"] for s in session["steps"] if "cache" in s.get("uses", "")]
    assert ".uv-cache" in cached and any("doit-state.sqlite3" in p for p in cached)
