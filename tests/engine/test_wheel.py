"""Connector wheels: reproducible bytes, content-hash incrementality, installable, registering."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import project, wheel
from tools.lakeflow.errors import LakeflowError


def repo_with_example(root: Path) -> Path:
    """A minimal repo root holding only sources/example (the wheel needs nothing else)."""
    shutil.copytree(
        project.source_dir("example"),
        root / "sources" / "example",
        ignore=shutil.ignore_patterns("__pycache__", "configs", "test"),
    )
    (root / "sources" / "example" / "example.py").touch()
    return root


@pytest.fixture
def repo(tmp_path) -> Path:
    return repo_with_example(tmp_path / "repo")


def test_identical_inputs_give_a_byte_identical_wheel(tmp_path):
    first, second = repo_with_example(tmp_path / "a"), repo_with_example(tmp_path / "b")
    # Different file times and a different working directory must not matter.
    merged = project.generated_file("example", second)
    os.utime(merged, (1_900_000_000, 1_900_000_000))
    assert wheel.build_wheel("example", first)
    assert wheel.build_wheel("example", second)
    one, two = wheel.wheel_path("example", first), wheel.wheel_path("example", second)
    assert one.name == "lakeflow_connector_example-0.1.0-py3-none-any.whl"
    assert one.read_bytes() == two.read_bytes()


def test_unchanged_inputs_do_not_rebuild_and_a_changed_input_does(repo):
    assert wheel.build_wheel("example", repo)
    built = wheel.wheel_path("example", repo)
    before = (built.read_bytes(), built.stat().st_mtime_ns)
    assert not wheel.build_wheel("example", repo)
    assert (built.read_bytes(), built.stat().st_mtime_ns) == before

    merged = project.generated_file("example", repo)
    merged.write_text(merged.read_text() + "\nWHEEL_EDIT_MARKER = 1\n")
    assert wheel.build_wheel("example", repo)
    assert built.read_bytes() != before[0]
    with zipfile.ZipFile(built) as archive:
        assert b"WHEEL_EDIT_MARKER" in archive.read("lakeflow_connector_example/__init__.py")


def test_the_wheel_installs_and_its_entry_point_registers_the_data_source(repo, tmp_path):
    wheel.build_wheel("example", repo)
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(site),
            str(wheel.wheel_path("example", repo)),
        ],
        check=True,
    )
    # A recording stand-in for SparkSession.dataSource: what gets registered is the real class.
    probe = (
        "import importlib.metadata as md, types\n"
        "registered = []\n"
        "spark = types.SimpleNamespace(dataSource=types.SimpleNamespace(register=registered.append))\n"
        "(ep,) = [e for e in md.entry_points(group='lakeflow_connect.sources') if e.name == 'example']\n"
        "ep.load()(spark)\n"
        "print(registered[0].name(), registered[0].connector_class.__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout.split()
    assert out[0] == "lakeflow_connect"
    assert out[1] == "ExampleLakeflowConnect"


def test_the_connectors_own_pyproject_names_and_versions_the_wheel(repo):
    own = repo / "sources" / "example" / "pyproject.toml"
    own.write_text(
        '[project]\nname = "acme-example"\nversion = "2.3.0"\ndependencies = ["requests>=2"]\n'
    )
    wheel.build_wheel("example", repo)
    built = wheel.wheel_path("example", repo)
    assert built.name == "acme_example-2.3.0-py3-none-any.whl"
    with zipfile.ZipFile(built) as archive:
        metadata = archive.read("acme_example-2.3.0.dist-info/METADATA").decode()
    assert "Requires-Dist: requests>=2" in metadata
    assert own in wheel.wheel_inputs("example", repo)


def test_an_unsupported_field_in_the_connectors_pyproject_names_file_and_field(repo):
    (repo / "sources" / "example" / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\nscripts = {a = "b:c"}\n'
    )
    with pytest.raises(LakeflowError) as error:
        wheel.build_wheel("example", repo)
    assert "sources/example/pyproject.toml" in str(error.value)
    assert "project.scripts" in str(error.value)
    assert not wheel.wheel_dir("example", repo).exists()


def test_doit_builds_the_wheel_once_and_again_only_after_an_edit(tmp_path):
    box = DoitSandbox(tmp_path, sources=("example",))
    assert "wheel:example" in box.ran("wheel:example")
    assert box.ran("wheel:example") == set()
    box.edit("sources/example/requirements.txt", "\nrequests>=2.31\n")
    # The merge re-checks the imports against the declared requirements (its file is unchanged).
    assert box.ran("wheel:example") == {"merge:example", "wheel:example"}
    built = wheel.wheel_path("example", box.root)
    with zipfile.ZipFile(built) as archive:
        metadata = archive.read("lakeflow_connector_example-0.1.0.dist-info/METADATA").decode()
    assert "Requires-Dist: requests>=2.31" in metadata


def test_the_local_workspace_install_check_accepts_the_wheel_and_names_what_breaks_one(repo):
    from tools.local_workspace.ingestion import check_wheel

    wheel.build_wheel("example", repo)
    built = wheel.wheel_path("example", repo)
    path = f"/Volumes/main/s/v/example/{built.name}"
    assert check_wheel(path, built.read_bytes()) == []
    assert check_wheel(path, b"not a zip") == [f"{path}: not a zip archive"]

    broken = built.with_name("broken.zip")
    with zipfile.ZipFile(built) as source, zipfile.ZipFile(broken, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name.endswith("__init__.py"):
                data = data.replace(b"def register_lakeflow_source", b"def something_else")
            target.writestr(name, data)
    problems = check_wheel(path, broken.read_bytes())
    assert "lakeflow_connector_example/__init__.py: hash does not match RECORD" in problems
    assert (
        f"{path}: lakeflow_connector_example/__init__.py does not define register_lakeflow_source(spark)"
        in problems
    )
