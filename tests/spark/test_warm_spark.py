"""The warm Spark Connect server: started once, reused, Python data sources through it, stopped
when idle; a server that cannot start leaves the check on today's in-process path."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tools.lakeflow import project, spark_check, spark_server

pytestmark = pytest.mark.spark


def test_one_server_serves_checks_until_it_is_idle(tmp_path):
    first = spark_server.start(root=tmp_path)
    assert first is not None, (tmp_path / ".lakeflow/spark/server.log").read_text()[-3000:]
    try:
        assert spark_server.start(root=tmp_path)["pid"] == first["pid"]  # reused, not restarted
        # A check through the server, from another process as a deploy's would be (this one
        # may already hold the classic session of the other Spark tests).
        client = (
            "import sys; from pyspark.sql import SparkSession;"
            "from tools.lakeflow import spark_check;"
            "session = SparkSession.builder.remote(sys.argv[1]).getOrCreate();"
            "print('\\n'.join(spark_check.check_source('example', session)))"
        )
        checked = subprocess.run(
            [sys.executable, "-c", client, first["url"]],
            capture_output=True,
            text=True,
            cwd=project.REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(project.REPO_ROOT)},
            timeout=900,
        )
        assert "stream orders after change" in checked.stdout, checked.stderr[-3000:]

        activity = tmp_path / ".lakeflow/spark/last-used"
        long_ago = time.time() - spark_server.idle_seconds() - 60
        os.utime(activity, (long_ago, long_ago))
        state_file = tmp_path / ".lakeflow/spark/server.json"
        deadline = time.monotonic() + 90
        while (spark_server.running(tmp_path) or state_file.exists()) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.5)
        assert spark_server.running(tmp_path) is None
        assert not state_file.exists()
    finally:
        spark_server.stop(tmp_path)


def test_a_server_that_cannot_start_falls_back_to_a_local_session(tmp_path, monkeypatch):
    real_start = spark_server.start
    started: list[object] = []

    def start_without_java():
        with monkeypatch.context() as env:  # Java is missing for the server only
            env.setenv("JAVA_HOME", str(tmp_path / "no-java-here"))
            started.append(real_start(root=tmp_path, timeout=120))
        return started[-1]

    monkeypatch.setattr(spark_server, "start", start_without_java)
    session, how = spark_check.warm_session()
    assert started == [None]  # the real start was tried, and failed
    assert how == "cold"
    assert session.range(3).count() == 3
