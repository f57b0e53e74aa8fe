"""Connector test sessions stay isolated although they no longer each hold a pyspark build."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.engine.doit_sandbox import DoitSandbox


@pytest.fixture(scope="module")
def needy(tmp_path_factory) -> DoitSandbox:
    box = DoitSandbox(tmp_path_factory.mktemp("repo"), sources=("example",))
    box.clone_source("example", "needy")
    return box


def nox_session(box: DoitSandbox, session: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nox", "-s", session, "--envdir", str(box.root / ".nox")],
        cwd=box.root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(box.root)},
        timeout=300,
    )


def test_a_connector_importing_an_undeclared_package_fails_until_it_declares_it(needy):
    needy.edit("sources/needy/needy.py", "\n\nimport six  # noqa: E402, F401 (not declared)\n")
    undeclared = nox_session(needy, "test(needy)")
    assert undeclared.returncode != 0
    assert "No module named 'six'" in undeclared.stdout + undeclared.stderr

    needy.edit("sources/needy/requirements.txt", "six\n")
    declared = nox_session(needy, "test(needy)")
    assert declared.returncode == 0, declared.stdout + declared.stderr


def test_a_connector_session_holds_the_spark_api_but_not_spark(needy):
    """The thin venv has pyspark.sql.types (Connect client, no jars), never the full pyspark."""
    assert nox_session(needy, "test(example)").returncode == 0
    venv_python = needy.root / ".nox" / "test-example" / "bin" / "python"
    probe = (
        "import importlib.metadata as m, pyspark.sql.types as t;"
        "names = {d.metadata['Name'].lower() for d in m.distributions()};"
        "print('pyspark-client' in names, 'pyspark' in names, 'pandas' in names)"
    )
    found = subprocess.run([str(venv_python), "-c", probe], capture_output=True, text=True)
    assert found.stdout.split() == ["True", "False", "False"], found.stderr
