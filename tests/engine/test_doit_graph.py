"""The build graph's incremental behaviour, proven by running the real doit in a repo copy."""

from __future__ import annotations

import pytest

from tests.engine.doit_sandbox import DoitSandbox


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> DoitSandbox:
    box = DoitSandbox(tmp_path_factory.mktemp("repo"), sources=("example",))
    box.clone_source("example", "second")
    return box


def build_tasks(*sources: str) -> set[str]:
    return {f"{kind}:{name}" for kind in ("merge", "stage") for name in sources}


def test_first_run_builds_every_source_then_a_second_run_does_nothing(sandbox):
    first = sandbox.ran()
    assert build_tasks("example", "second") <= first
    assert sandbox.ran() == set()


def test_list_shows_the_build_tasks(sandbox):
    listed = sandbox.doit("list", "--all").stdout.split()
    assert {"merge:example", "stage:second"} <= set(listed)
    # plain `list` makes no source's tasks but run:<s>, and shows what it showed with all of them
    groups = [line.split()[0] for line in sandbox.doit("list").stdout.splitlines()]
    assert {"deploy", "merge", "stage", "run:example", "run:second"} <= set(groups)
    assert "run_pipeline" not in groups
    assert [g for g in groups if ":" in g and not g.startswith("run:")] == []


def test_editing_one_connector_reruns_only_its_tasks(sandbox):
    sandbox.ran()
    sandbox.edit("sources/second/second.py", "\n\nSECOND_EDIT_MARKER = 1\n")
    assert sandbox.ran() == build_tasks("second")
    generated = sandbox.root / "sources/second/_generated_second_python_source.py"
    assert "SECOND_EDIT_MARKER" in generated.read_text()
    assert (
        "SECOND_EDIT_MARKER"
        in (
            sandbox.root / "build/stage/second/sources/second/_generated_second_python_source.py"
        ).read_text()
    )
    assert sandbox.ran() == set()


def test_editing_a_shared_lib_reruns_every_merge(sandbox):
    sandbox.ran()
    sandbox.edit("libs/utils.py", "\n\nSHARED_EDIT_MARKER = 1\n")
    ran = sandbox.ran()
    assert {"merge:example", "merge:second"} <= ran
    assert (
        "SHARED_EDIT_MARKER"
        in (sandbox.root / "sources/example/_generated_example_python_source.py").read_text()
    )
    assert sandbox.ran() == set()


def test_an_unchanged_merge_does_not_rewrite_the_generated_file(sandbox):
    sandbox.ran()
    generated = sandbox.root / "sources/example/_generated_example_python_source.py"
    before = generated.stat().st_mtime_ns
    # A comment changes the input file but not the merged code.
    sandbox.edit("sources/example/example.py", "\n# a comment only\n")
    assert "merge:example" in sandbox.ran()
    assert generated.stat().st_mtime_ns == before


def test_a_broken_connector_fails_its_merge_with_file_and_line(sandbox):
    sandbox.ran()
    broken = sandbox.root / "sources/second/second.py"
    original = broken.read_text()
    broken.write_text(original + "\ndef oops(:\n")
    try:
        result = sandbox.doit("merge:second", check=False)
        assert result.returncode != 0
        assert "second.py:" in result.stdout + result.stderr
    finally:
        broken.write_text(original)
