"""The warm Spark Connect server: started once, reused, Python data sources through it, a check
reattaching to its source's server-side session, stopped when idle; a server that cannot start
leaves the check on today's in-process path."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pyspark
import pytest
from pyspark.sql.functions import udf

from tools.lakeflow import project, spark_check, spark_fork_server, spark_server

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module (a JVM start each costs ~15 s); the last test stops it."""
    root = tmp_path_factory.mktemp("warm")
    state = spark_server.start(root=root)
    assert state is not None, (root / ".lakeflow/spark/server.log").read_text()[-3000:]
    yield root, state
    spark_server.stop(root)


def client(root, code: str) -> str:
    """Run `code` in another process, as a deploy's check would (this one may already hold the
    classic session of the other Spark tests); `root`, `spark_check` and `spark_server` are
    defined for it. Returns its output."""
    prelude = (
        "import sys; from pathlib import Path; root = Path(sys.argv[1]);"
        "from tools.lakeflow import spark_check, spark_server\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + code, str(root)],
        capture_output=True,
        text=True,
        cwd=project.REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(project.REPO_ROOT)},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_one_server_serves_checks_from_other_processes(server):
    root, first = server
    assert spark_server.start(root=root)["pid"] == first["pid"]  # reused, not restarted
    out = client(
        root,
        "session, how = spark_check.warm_session('example', root); print(how);"
        "print('\\n'.join(spark_check.check_source('example', session)));"
        "session.conf.set('lf.mark', 'left by the last check')",
    )
    assert out.splitlines()[0] == "warm"
    assert "stream orders after change: 1 new or changed rows" in out
    assert "deletes orders: 3 keys" in out


def test_the_servers_python_workers_import_the_installed_compiled_pyspark(server):
    root, _ = server
    where = client(
        root,
        "from pyspark.sql.functions import udf;"
        "session, _ = spark_check.warm_session('example', root);"
        "found = udf(lambda _: __import__('pyspark').__file__, 'string');"
        "print(session.range(1).select(found('id')).first()[0])",
    )
    assert where.strip() == pyspark.__file__  # not pyspark.zip, which holds no bytecode


# A stream whose one record says which process read it: its parent, and whether pyspark's
# Arrow conversion (pandas) was imported before the record was converted.
WHO_READS = """
import os, sys
from pyspark.sql.datasource import DataSource, SimpleDataSourceStreamReader

class WhoReads(DataSource):
    @classmethod
    def name(cls):
        return "who_reads"

    def schema(self):
        return "parent int, warm boolean"

    def simpleStreamReader(self, schema):
        return Reader(self.options.get("fail"))

class Reader(SimpleDataSourceStreamReader):
    def __init__(self, fail):
        self.fail = fail

    def initialOffset(self):
        return {"n": 0}

    def read(self, start):
        if self.fail:
            raise ValueError(self.fail)
        if start["n"]:
            return iter([]), start
        return iter([(os.getppid(), "pandas" in sys.modules)]), {"n": 1}

    def readBetweenOffsets(self, start, end):
        return self.read(start)[0]

session, _ = spark_check.warm_session("who", root)
session.dataSource.register(WhoReads)
def run(out, **options):
    return (
        session.readStream.format("who_reads").options(**options).load().writeStream
        .format("parquet").option("path", out).option("checkpointLocation", out + "-checkpoint")
        .trigger(availableNow=True).start()
    )
"""


def test_a_stream_run_reads_in_a_python_forked_from_the_servers_warm_one(server):
    root, state = server
    out = client(
        root,
        WHO_READS + "out = str(root / 'who'); run(out).awaitTermination();"
        "print(session.read.parquet(out).collect())",
    )
    # The supervisor forked it, with pyspark's Arrow conversion already imported; a new
    # process would have Spark's JVM as its parent.
    assert out.splitlines()[-1] == f"[Row(parent={state['pid']}, warm=True)]"


def test_an_error_in_a_forked_stream_run_reaches_the_client(server):
    root, _ = server
    out = client(
        root,
        WHO_READS
        + "query = run(str(root / 'failing'), fail='no such page')\n"
        + "try:\n    query.awaitTermination(120)\nexcept Exception as error:\n    failure = error\n"
        + "else:\n    failure = query.exception()\n"
        + "print(spark_check.python_error(failure))",
    )
    assert out.splitlines()[-1] == "ValueError: no such page"


def test_the_servers_python_is_the_real_one_for_anything_but_a_stream_run(server, tmp_path):
    root, _ = server
    launcher = root / ".lakeflow/spark/python"  # what the server gave Spark as its Python
    code = "import sys; print(sys.flags.isolated, sys.flags.no_site, sys.argv[1:])"
    env = {k: v for k, v in os.environ.items() if k != spark_fork_server.SOCKET_ENV}
    for socket_path in (None, str(tmp_path / "no-fork-server")):
        if socket_path:
            env[spark_fork_server.SOCKET_ENV] = socket_path
        done = subprocess.run(
            [str(launcher), "-c", code, "an argument"], capture_output=True, text=True, env=env
        )
        assert (done.returncode, done.stdout) == (0, "0 0 ['an argument']\n"), done.stderr
    # a stream run with no fork server to ask: the real Python runs the runner itself (which,
    # with no Spark to connect back to, fails there)
    done = subprocess.run(
        [str(launcher), *spark_fork_server.RUNNER_ARGS],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode != 0
    assert 'python_streaming_source_runner.py", line' in done.stderr


@pytest.mark.parametrize(
    ("name", "mark"), [("example", "left by the last check"), ("github", "unset")]
)
def test_a_check_reattaches_to_the_session_its_source_left_on_the_server(server, name, mark):
    root, _ = server
    read = (
        f"session, _ = spark_check.warm_session({name!r}, root);"
        "print(session.conf.get('lf.mark', 'unset'))"
    )
    assert client(root, read).splitlines() == [mark]


def test_a_session_the_server_has_closed_is_replaced_by_a_fresh_one(server):
    root, state = server
    out = client(
        root,
        "state = spark_server.running(root); closed = spark_check.server_session_id(state, 'x');"
        "spark_check.connect_session(state['url'], closed).stop();"  # the server releases it
        "session, how = spark_check.warm_session('x', root);"
        "print(how, session.range(3).count(), session.client._session_id != closed)",
    )
    assert out.splitlines() == ["warm 3 True"]


def test_the_server_stops_when_idle(server):
    root, _ = server
    activity = root / ".lakeflow/spark/last-used"
    long_ago = time.time() - spark_server.idle_seconds() - 60
    os.utime(activity, (long_ago, long_ago))
    state_file = root / ".lakeflow/spark/server.json"
    deadline = time.monotonic() + 90
    while (spark_server.running(root) or state_file.exists()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert spark_server.running(root) is None
    assert not state_file.exists()


def test_a_server_that_cannot_start_falls_back_to_a_local_session(tmp_path, monkeypatch):
    real_start = spark_server.start
    started: list[object] = []

    def start_without_java(root):
        with monkeypatch.context() as env:  # Java is missing for the server only
            env.setenv("JAVA_HOME", str(tmp_path / "no-java-here"))
            started.append(real_start(root=tmp_path, timeout=120))
        return started[-1]

    monkeypatch.setattr(spark_server, "start", start_without_java)
    session, how = spark_check.warm_session("example", tmp_path)
    assert started == [None]  # the real start was tried, and failed
    assert how == "cold"
    assert session.range(3).count() == 3
    # its Python workers, too, import the installed pyspark rather than pyspark.zip
    found = udf(lambda _: __import__("pyspark").__file__, "string")
    assert session.range(1).select(found("id")).first()[0] == pyspark.__file__
