"""`doit new --name <source>`: a scaffolded connector merges, stages and passes its own test."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import scaffold
from tools.lakeflow.errors import LakeflowError


def test_a_scaffolded_connector_merges_stages_and_passes_its_generated_test(tmp_path):
    box = DoitSandbox(tmp_path, sources=("example",))
    created = box.doit("new", "--name", "acme_widgets")
    assert "created sources/acme_widgets/" in created.stdout
    listed = box.doit("list", "--all").stdout.split()
    assert {"merge:acme_widgets", "stage:acme_widgets", "deploy:acme_widgets"} <= set(listed)
    ran = box.ran("merge:acme_widgets", "stage:acme_widgets")
    # (the shared fingerprints are made once in a fresh copy, before any source's merge)
    assert ran - {"shared:merge", "shared:stage"} == {"merge:acme_widgets", "stage:acme_widgets"}
    generated = box.root / "sources/acme_widgets/_generated_acme_widgets_python_source.py"
    assert (
        "class AcmeWidgetsLakeflowConnect(FixedTables, ProcessLocal, LakeflowConnect)"
        in generated.read_text()
    )
    assert (box.root / "build/stage/acme_widgets/ingest.py").is_file()
    sessions = subprocess.run(
        [sys.executable, "-m", "nox", "-l"],
        cwd=box.root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "test(acme_widgets)" in sessions
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "sources/acme_widgets/test"],
        cwd=box.root,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(box.root)},
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert " passed" in tests.stdout


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Bad-Name", "not a lower-case Python identifier"),
        ("9lives", "not a lower-case Python identifier"),
        ("class", "not a lower-case Python identifier"),
        ("example", "already exists"),
        ("interface", "already exists"),
        ("", "give the new source a name"),
        ("json", "standard-library module"),
        ("os", "standard-library module"),
        ("test", "reserved: every connector's tests"),
        ("pipeline", "a package the project imports"),
        ("pyspark", "a package the project imports"),
    ],
)
def test_bad_names_are_refused(name, message):
    with pytest.raises(LakeflowError, match=message):
        scaffold.check_name(name)


def test_doit_new_refuses_a_taken_name_with_a_clear_message(tmp_path):
    box = DoitSandbox(tmp_path, sources=("example",))
    result = box.doit("new", "--name", "example", check=False)
    assert result.returncode != 0
    assert "sources/example already exists" in result.stderr
    for name, reason in (("", "give the new source a name"), ("json", "standard-library")):
        refused = box.doit("new", f"--name={name}", check=False)
        assert refused.returncode != 0 and reason in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert not (box.root / "sources/json").exists()
