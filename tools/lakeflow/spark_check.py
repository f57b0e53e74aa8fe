"""Prove a merged connector in real Spark, offline, before anything is uploaded.

For one source, against its simulator (declared by `sources/<s>/test/spark_case.py`):
exec the merged file and register it; batch-read `_lakeflow_metadata` and every table; stream the
cdc and append tables with Trigger.AvailableNow (all at once) with a checkpoint; change the source
and stream again from the same checkpoint (only new or changed records may arrive); read the delete
flow of cdc_with_deletes tables. The connector class imported from the repo is the oracle: Spark
must see exactly what it reads.

A failure names the connector, the table and the Python exception raised inside the data source.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import re
import sys
import tempfile
import threading
import time
import types
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from libs import runtime_names
from tools.lakeflow import project, spark_server
from tools.lakeflow.errors import LakeflowError

STREAMED_TYPES = ("cdc", "cdc_with_deletes", "append")


@dataclass
class SparkCase:
    """How to read one connector in Spark: its options and how to change its data."""

    options: dict[str, str]
    table_options: dict[str, dict[str, str]] = field(default_factory=dict)
    # Changes the source's data; returns options to add for the second run (or {}).
    change: Callable[[], dict[str, str]] = lambda: {}


def spark_available() -> bool:
    return importlib.util.find_spec("pyspark") is not None


# One local Spark for a whole run: few shuffle partitions, no UI. Used by the in-process session
# and by the warm Connect server (tools/lakeflow/spark_server.py) alike.
SPARK_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.python.worker.reuse": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.streaming.noDataMicroBatches.enabled": "false",
    # Hadoop's local file system shells out (a fork of the JVM) to `chmod` for every file it
    # creates and, through FileContext, to `readlink` for every rename: ~70 forks per stream run.
    # The FileSystem-based checkpoint manager renames without readlink, and the raw local file
    # system writes no .crc files beside each checkpoint file (half the chmods).
    "spark.sql.streaming.checkpointFileManagerClass": (
        "org.apache.spark.sql.execution.streaming.checkpointing.FileSystemBasedCheckpointFileManager"
    ),
    "spark.hadoop.fs.file.impl": "org.apache.hadoop.fs.RawLocalFileSystem",
}


def new_spark_session():
    """An in-process local session (2 cores): a fresh JVM."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # A Connect session tried earlier in this process (the warm path) leaves pyspark in Connect
    # mode; the in-process fallback needs the classic one.
    os.environ.pop("SPARK_CONNECT_MODE_ENABLED", None)
    # Python workers that import the installed, compiled pyspark (see spark_server.spark_home).
    os.environ["SPARK_HOME"] = str(spark_server.spark_home())
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master("local[2]").appName("lakeflow-spark-check")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    # Failures reach the caller as exceptions, with the Python error dug out; the JVM's own
    # stack traces would only bury them.
    session.sparkContext.setLogLevel("FATAL")
    return session


def python_error(error: BaseException) -> str:
    """The Python exception raised inside the data source, dug out of Spark's Java wrapping."""
    text = str(error)
    for pattern in (r"LakeflowReadError: (.*)", r"\n(\w*(?:Error|Exception)): (.*)"):
        found = re.findall(pattern, text)
        if found:
            last = found[-1]
            return last if isinstance(last, str) else ": ".join(last)
    return text.strip().splitlines()[0] if text.strip() else type(error).__name__


def load_merged(spark, name: str, root: Path = project.REPO_ROOT, text: str | None = None):
    """Exec the merged file (or `text`) and register it; returns the registered data source."""
    path = project.generated_file(name, root)
    code = text if text is not None else path.read_text()
    # A real module, as when a pipeline imports the file: dataclasses look their module up.
    module = types.ModuleType(f"lakeflow_merged_{name}")
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    try:
        exec(compile(code, str(path), "exec"), namespace)
    except Exception as error:
        raise LakeflowError(f"merged file does not load: {error!r}", file=path) from error
    return namespace[runtime_names.REGISTER_FUNCTION](spark)


def spark_case(name: str, root: Path = project.REPO_ROOT):
    """The connector's `spark_case()` context manager from sources/<s>/test/spark_case.py."""
    module_name = f"sources.{name}.test.spark_case"
    if not (project.source_dir(name, root) / "test" / "spark_case.py").is_file():
        raise LakeflowError(
            "no spark_case() declared; add one so the merged file can be checked in Spark",
            file=f"sources/{name}/test/spark_case.py",
        )
    return importlib.import_module(module_name).spark_case()


def _oracle_read(connector, table: str, options: dict, offset=None, deletes: bool = False):
    from sources.interface.lakeflow_connect import read_to_fixed_point

    try:
        return read_to_fixed_point(connector, table, offset, options, deletes=deletes)
    except RuntimeError as error:
        raise LakeflowError(str(error)) from None


@dataclass
class _StreamRuns:
    """One run of every streamed table's query (`SparkCheck._streams`)."""

    what: str
    queries: dict = field(default_factory=dict)  # table -> its streaming query, in table order
    failure: LakeflowError | None = None  # a query that failed to start


class SparkCheck:
    """Runs the checks for one connector; `report` collects one line per check."""

    def __init__(self, spark, name: str, case: SparkCase, workdir: Path, root=project.REPO_ROOT):
        self.spark, self.name, self.case, self.workdir = spark, name, case, Path(workdir)
        self.root = root
        self.report: list[str] = []
        self.next_batch: dict[str, int] = {}  # per streamed table: the batch its next run starts at

    def fail(self, table: str, what: str, error: BaseException | str) -> LakeflowError:
        detail = error if isinstance(error, str) else python_error(error)
        return LakeflowError(f"{self.name}.{table}: {what}: {detail}")

    def reader(self, table: str, extra: dict | None = None, stream: bool = False):
        base = self.spark.readStream if stream else self.spark.read
        options = {**self.case.options, **self.case.table_options.get(table, {}), **(extra or {})}
        return (
            base.format(runtime_names.DATA_SOURCE_NAME)
            .options(**options)
            .option(runtime_names.OPTION_TABLE_NAME, table)
        )

    def oracle(self, extra: dict | None = None):
        source = self.data_source.connector_class
        return source({**self.case.options, **(extra or {})})

    def run(self, text: str | None = None) -> list[str]:
        self.data_source = load_merged(self.spark, self.name, self.root, text)
        connector = self.oracle()
        tables = connector.list_tables()
        expected = {t: connector.read_table_metadata(t, self.table_options(t)) for t in tables}
        streamed = [t for t in tables if expected[t]["ingestion_type"] in STREAMED_TYPES]
        # The first streams run while the batch reads are checked: both read the unchanged
        # source, and the server works while this process compares. (A metadata or batch
        # failure is reported first, as it explains the streams' failures.)
        with self._streams(streamed, "first run") as first_streams:
            self.check_metadata(tables, expected)
            for table in tables:
                self.check_batch(connector, table)
            offsets = self.check_streams(first_streams, connector, streamed, "first run")
        extra = self.case.change()
        changed = self.oracle(extra)
        with self._streams(streamed, "second run", extra) as second_streams:
            deletes = [t for t in tables if expected[t]["ingestion_type"] == "cdc_with_deletes"]
            for table in deletes:
                self.check_deletes(changed, table, extra)
            self.check_streams(second_streams, changed, streamed, "second run", offsets)
        return self.report

    def table_options(self, table: str) -> dict[str, str]:
        return self.case.table_options.get(table, {})

    def check_metadata(self, tables, expected: dict[str, dict]) -> None:
        metadata_options = {
            runtime_names.OPTION_TABLE_NAME_LIST: ",".join(tables),
            runtime_names.OPTION_TABLE_CONFIGS: json.dumps({}),
        }
        try:
            rows = self.reader(runtime_names.METADATA_TABLE, metadata_options).load().collect()
        except Exception as error:
            raise self.fail(runtime_names.METADATA_TABLE, "metadata read failed", error) from None
        found = {row[runtime_names.OPTION_TABLE_NAME]: row.asDict() for row in rows}
        for table in tables:
            got, want = found.get(table), expected[table]
            if (
                got is None
                or got["ingestion_type"] != want["ingestion_type"]
                or (list(got["primary_keys"] or []) != list(want.get("primary_keys") or []))
            ):
                raise self.fail(table, "metadata differs", f"spark {got} vs connector {want}")
        self.report.append(f"metadata: {len(tables)} tables")

    def check_batch(self, connector, table: str) -> None:
        options = self.table_options(table)
        try:
            frame = self.reader(table).load()
            count = frame.count()
        except Exception as error:
            raise self.fail(table, "batch read failed", error) from None
        expected_schema = connector.get_table_schema(table, options)
        if [f.name for f in frame.schema.fields] != expected_schema.fieldNames():
            raise self.fail(table, "schema differs", f"{frame.schema.simpleString()}")
        expected, _ = _oracle_read(connector, table, options)
        if count != len(expected):
            raise self.fail(
                table, "batch row count", f"spark read {count}, source has {len(expected)}"
            )
        self.report.append(f"batch {table}: {count} rows")

    def _start_stream(self, table: str, extra: dict | None = None):
        """One availableNow run of the table's stream from its checkpoint. The noop sink consumes
        every row; the checkpoint, not an output table, is what a restart resumes from."""
        return (
            self.reader(table, extra, stream=True)
            .load()
            .writeStream.format("noop")
            .option("checkpointLocation", str(self.workdir / table / "checkpoint"))
            .trigger(availableNow=True)
            .start()
        )

    @contextlib.contextmanager
    def _streams(self, tables: list[str], what: str, extra: dict | None = None):
        """Every table's stream started at once (each run spends most of its time starting its
        Python process, so they overlap); yields the runs for `check_streams` to await. A
        failure to start is raised by `check_streams`; leaving early stops the runs."""
        runs = _StreamRuns(what)
        for table in tables:
            try:
                runs.queries[table] = self._start_stream(table, extra)
            except Exception as error:
                runs.failure = self.fail(table, f"stream ({what}) failed", error)
                break
        try:
            yield runs
        except BaseException:
            for query in runs.queries.values():  # they may still run
                with contextlib.suppress(Exception):
                    query.stop()
            raise

    def _await(self, runs: _StreamRuns) -> dict[str, int]:
        """The rows each run read, from its progress reports; the first failure (in table
        order) is raised."""
        if runs.failure:
            raise runs.failure
        rows = {}
        for table, query in runs.queries.items():
            try:
                query.awaitTermination()
                failure = query.exception()
            except Exception as error:
                failure = error
            if failure:
                raise self.fail(table, f"stream ({runs.what}) failed", failure) from None
            rows[table] = self._rows_read(table, query)
        return rows

    def _rows_read(self, table: str, query) -> int:
        """The rows this run read; its batches must follow the last one committed before."""
        progress = query.recentProgress
        first = self.next_batch.get(table, 0)
        if progress and progress[0].batchId != first:
            raise self.fail(table, "stream progress", f"batch {progress[0].batchId}, not {first}")
        if progress:
            self.next_batch[table] = progress[-1].batchId + 1
        return sum(p.numInputRows for p in progress)

    def check_streams(self, runs, connector, tables, what: str, offsets=None) -> dict[str, dict]:
        """The rows that arrived in each table's run must be what the oracle reads (from
        `offsets`: on the second run, only new or changed records). Returns the oracle's
        offsets after them."""
        expected, after = {}, {}
        for table in tables:  # the oracle reads one table at a time, in this process
            start = offsets[table] if offsets else None
            expected[table], after[table] = _oracle_read(
                connector, table, self.table_options(table), start
            )
        arrived = self._await(runs)
        for table in tables:
            if arrived[table] != len(expected[table]):
                raise self.fail(
                    table,
                    f"stream ({what})",
                    f"{arrived[table]} rows arrived, expected {len(expected[table])}",
                )
        label = "" if offsets is None else " after change"
        unit = "rows" if offsets is None else "new or changed rows"
        self.report += [f"stream {t}{label}: {arrived[t]} {unit}" for t in tables]
        return after

    def check_deletes(self, connector, table: str, extra: dict) -> None:
        options = self.table_options(table)
        expected, _ = _oracle_read(connector, table, options, deletes=True)
        try:
            rows = (
                self.reader(table, {**extra, runtime_names.OPTION_IS_DELETE_FLOW: "true"})
                .load()
                .collect()
            )
        except Exception as error:
            raise self.fail(table, "delete flow read failed", error) from None
        keys = self.oracle(extra).read_table_metadata(table, options)["primary_keys"]
        got = sorted(tuple(r[k] for k in keys) for r in rows)
        want = sorted(tuple(r[k] for k in keys) for r in expected)
        if [tuple(map(str, g)) for g in got] != [tuple(map(str, w)) for w in want]:
            raise self.fail(table, "deleted keys differ", f"spark {got} vs source {want}")
        self.report.append(f"deletes {table}: {len(rows)} keys")


def register_and_list(spark, name: str, root: Path = project.REPO_ROOT) -> list[str]:
    """What can be checked without a simulator (a folder copied from upstream has none): the
    merged file registers in Spark, and its tables are listed with the options in
    configs/dev_config.json, when the connector can list them without a live API."""
    data_source = load_merged(spark, name, root)
    report = [f"registered {data_source.connector_class.__name__} (no spark_case: nothing read)"]
    config = project.source_dir(name, root) / "configs" / "dev_config.json"
    options = json.loads(config.read_text()) if config.is_file() else {}
    try:
        tables = data_source.connector_class(options).list_tables()
    except Exception as error:  # noqa: BLE001 - reported: listing may need a live API
        report.append(f"tables not listed ({type(error).__name__}: {error})")
    else:
        report.append(f"tables: {', '.join(tables)}")
    return report


def check_source(name: str, spark=None, root: Path = project.REPO_ROOT) -> list[str]:
    """Every check for one source; returns the report lines. Starts Spark if not given one."""
    started = time.monotonic()
    spark = spark or new_spark_session()
    if not (project.source_dir(name, root) / "test" / "spark_case.py").is_file():
        return [*register_and_list(spark, name, root), f"{time.monotonic() - started:.1f} s"]
    with contextlib.ExitStack() as stack:
        case = stack.enter_context(spark_case(name, root))
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=f"spark-{name}-")))
        report = SparkCheck(spark, name, case, workdir, root).run()
    report.append(f"{time.monotonic() - started:.1f} s")
    return report


def connect_session(url: str, session_id: str | None = None):
    """A client session on the warm Connect server at `url`. With `session_id`, it reattaches
    to the server-side session an earlier check of the same source left, whose Python worker
    daemons (one set per server-side session, ~1 s of CPU each to start) are already running."""
    from pyspark.sql import SparkSession

    if session_id:
        url = f"{url}/;session_id={session_id}"
    # One client session per process (a second one can hang the process's exit in gRPC's
    # close): checks run one after another in a doit process share the first one's.
    session = SparkSession.builder.remote(url).getOrCreate()
    try:
        # Each stream runs in a clone of the session. With artifact isolation (Connect's
        # default) every clone gets Python worker daemons of its own, a Python start per
        # stream; the check adds no artifacts, so its streams may share the session's workers.
        session.conf.set("spark.sql.artifact.isolation.enabled", "false")
    except Exception:
        with contextlib.suppress(Exception):
            session.stop()
        raise
    return session


def server_session_id(state: spark_server.ServerState, name: str) -> str:
    """The same server-side session for every check of one source on one server run; another
    source (maybe checked at the same time by `doit -n`) has its own."""
    key = f"lakeflow-spark-check:{state['pid']}:{state['port']}:{name}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def warm_session(name: str | None = None, root: Path = project.REPO_ROOT):
    """A session on the warm Connect server, started if needed; otherwise today's cold path.

    Returns (session, "warm" | "cold"). `LAKEFLOW_SPARK_WARM=0` always takes the cold path.
    """
    if (
        os.environ.get("LAKEFLOW_SPARK_WARM", "1") != "0"
        and spark_server.connect_client_available()
    ):
        state = spark_server.start(root)
        if state is not None:
            # A reused session the server has since closed is refused: then a fresh one.
            session_ids = [server_session_id(state, name), None] if name else [None]
            for session_id in session_ids:
                try:
                    return connect_session(state["url"], session_id), "warm"
                except Exception as error:
                    refused = error
            # the server is up but refuses us: check cold instead
            print(f"warm Spark unavailable ({python_error(refused)}); starting a local one")
        else:
            log = spark_server.server_dir(root) / "server.log"
            print(f"warm Spark did not start (see {log}); starting a local one")
    return new_spark_session(), "cold"


def check_stamp(name: str, root: Path = project.REPO_ROOT) -> Path:
    """Written only after a real check: a skipped check leaves the task due for next time."""
    return project.lakeflow_dir(root) / "checks" / f"{name}.ok"


def _quietly(work: Callable[[], None]) -> None:
    with contextlib.suppress(Exception):  # whoever needs it next meets the error itself
        work()


def check_task(name: str, meanwhile: Callable[[], None] | None = None) -> None:
    """`doit check:<s>`: the Spark check, or a one-line notice when pyspark is not installed.
    `meanwhile` (work for a task after this one) runs in a thread while the check waits on
    Spark, which leaves this process's CPU mostly idle."""
    stamp = check_stamp(name)
    stamp.unlink(missing_ok=True)
    if not spark_available():
        print(f"check:{name} skipped: pyspark is not installed (pip install -e '.[spark]')")
        return
    if os.environ.get("LAKEFLOW_SKIP_CHECK"):
        print(f"check:{name} skipped: LAKEFLOW_SKIP_CHECK is set")
        return
    spark, how = warm_session(name)
    if meanwhile is not None:
        threading.Thread(target=_quietly, args=(meanwhile,), name="while-checking").start()
    report = check_source(name, spark)
    if how == "warm":
        spark_server.touch()
    print(f"check {name} ({how} Spark): " + "; ".join(report))
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text("\n".join(report) + "\n")
