"""The stage: exactly the files a deploy uploads, rewritten only when their content changes."""

from __future__ import annotations

import pytest

from tools.lakeflow import stage

SHARED = (
    "libs/runtime_names.py",
    "libs/source_loader.py",
    "libs/spec_parser.py",
    "libs/utils.py",
    "pipeline/ingestion_pipeline.py",
)


@pytest.fixture
def staged_repo(repo):
    for rel in SHARED:
        repo.write(rel, f"# {rel}\n")
    repo.write("sources/demo/__init__.py", "")
    repo.write("sources/demo/_generated_demo_python_source.py", "# merged\n")
    return repo


def test_the_staged_copies_of_a_source(staged_repo):
    copies = stage.staged_copies("demo", staged_repo.root)
    assert sorted(copies) == sorted(
        [
            *SHARED,
            "sources/demo/__init__.py",
            "sources/demo/_generated_demo_python_source.py",
            "sources/demo/demo.py",
        ]
    )
    assert copies["libs/utils.py"] == staged_repo.root / "libs/utils.py"


def test_a_hand_written_ingest_replaces_the_rendered_one(staged_repo):
    assert "ingest.py" not in stage.staged_copies("demo", staged_repo.root)
    staged_repo.write("sources/demo/ingest.py", "# mine\n")
    assert stage.staged_copies("demo", staged_repo.root)["ingest.py"].name == "ingest.py"
    assert stage.INGEST_TEMPLATE not in stage.stage_inputs("demo", staged_repo.root)


def test_the_rendered_ingest_is_an_input_of_the_spec_and_template(staged_repo):
    inputs = stage.stage_inputs("demo", staged_repo.root)
    assert stage.INGEST_TEMPLATE in inputs
    assert staged_repo.root / "sources/demo/pipeline_spec.yaml" in inputs


def test_stage_source_writes_every_file_and_renders_ingest(staged_repo):
    files = stage.stage_source("demo", staged_repo.root)
    assert "ingest.py" in files and len(files) == 9
    ingest = files["ingest.py"].read_text()
    compile(ingest, "ingest.py", "exec")
    assert "demo_connection" in ingest and "demo_events" in ingest
    assert stage.staged_files("demo", staged_repo.root) == files


def test_restaging_removes_stale_files_and_keeps_unchanged_mtimes(staged_repo):
    files = stage.stage_source("demo", staged_repo.root)
    stale = staged_repo.root / "build/stage/demo/old/gone.py"
    stale.parent.mkdir()
    stale.write_text("x")
    before = files["libs/utils.py"].stat().st_mtime_ns
    stage.stage_source("demo", staged_repo.root)
    assert not stale.parent.exists()
    assert files["libs/utils.py"].stat().st_mtime_ns == before


def test_a_missing_merged_file_asks_for_the_merge(staged_repo):
    (staged_repo.root / "sources/demo/_generated_demo_python_source.py").unlink()
    with pytest.raises(FileNotFoundError, match=r"run `doit merge:demo`"):
        stage.stage_source("demo", staged_repo.root)


def test_write_if_changed(tmp_path):
    path = tmp_path / "a" / "f"
    assert stage.write_if_changed(path, b"1") is True
    assert stage.write_if_changed(path, b"1") is False
    assert stage.write_if_changed(path, b"2") is True and path.read_bytes() == b"2"
