"""A connector folder copied from upstream lacks this repo's own files (pipeline_spec.yaml,
test/spark_case.py, a simulator): `doit list` and `nox -l` still load, and its merge runs."""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.compat.scratch_repo import FIXTURES
from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import project


def test_a_copied_upstream_folder_gets_tasks_and_merges(tmp_path):
    box = DoitSandbox(tmp_path, sources=("example",))
    shutil.copytree(FIXTURES / "upstream_package", box.root / "sources" / "upstream_package")
    listing = box.doit("list", "--all").stdout
    assert "merge:upstream_package" in listing and "check:upstream_package" in listing
    box.doit("merge:upstream_package")
    generated = project.generated_file("upstream_package", box.root).read_text()
    assert "UpstreamPackageLakeflowConnect" in generated and "upstream=True" in generated
    sessions = subprocess.run(
        [sys.executable, "-m", "nox", "-l"], cwd=box.root, capture_output=True, text=True
    )
    assert sessions.returncode == 0, sessions.stderr
    assert "test(upstream_package)" in sessions.stdout
