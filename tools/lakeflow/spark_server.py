"""A warm local Spark Connect server, shared by every Spark check until it has been idle a while.

Starting a JVM and warming it is most of a cold Spark check. The first check that wants Spark starts
`python -m tools.lakeflow.spark_server serve`: a small supervisor that runs Spark's own Connect
server (`spark-submit --class ...SparkConnectServer`, from the installed pyspark) on a free
127.0.0.1 port and writes `.lakeflow/spark/server.json`. Later checks, in any process, connect to it
with `SparkSession.builder.remote(...)`; Python data sources register and run through it as in a
local session; the supervisor also forks the Python process of each stream run from a warm one
(tools/lakeflow/spark_fork_server.py). Each check touches `.lakeflow/spark/last-used`; the
supervisor stops Spark when that is older than the idle timeout (`LAKEFLOW_SPARK_IDLE_SECONDS`,
default 30 minutes), or when `doit spark_stop` asks. Anything missing (no Connect client libraries,
Java, a start that fails or times out) makes `start()` return None, and the caller falls back to an
in-process session.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tools.lakeflow import project

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
DEFAULT_IDLE_SECONDS = 1800
START_TIMEOUT_SECONDS = 240
POLL_SECONDS = 2.0
ServerState = dict[str, Any]  # pid, port, url


def server_dir(root: Path = project.REPO_ROOT) -> Path:
    return project.lakeflow_dir(root) / "spark"


def _state_file(root: Path) -> Path:
    return server_dir(root) / "server.json"


def _activity_file(root: Path) -> Path:
    return server_dir(root) / "last-used"


def idle_seconds() -> float:
    return float(os.environ.get("LAKEFLOW_SPARK_IDLE_SECONDS") or DEFAULT_IDLE_SECONDS)


def connect_client_available() -> bool:
    """pyspark plus the Connect client's own libraries (grpc, its status protos, zstandard)."""
    needed = ("pyspark", "grpc", "grpc_status", "google.rpc", "zstandard", "pyarrow", "pandas")
    return all(importlib.util.find_spec(name) is not None for name in needed)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def running(root: Path = project.REPO_ROOT) -> ServerState | None:
    """The live server's state (`pid`, `port`, `url`), or None. A stale file is not trusted."""
    try:
        state = json.loads(_state_file(root).read_text())
        pid, port = int(state["pid"]), int(state["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid) or not _listening(port):
        return None
    return {"pid": pid, "port": port, "url": f"sc://127.0.0.1:{port}"}


def touch(root: Path = project.REPO_ROOT) -> None:
    activity = _activity_file(root)
    activity.parent.mkdir(parents=True, exist_ok=True)
    activity.touch()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(
    root: Path = project.REPO_ROOT, timeout: float = START_TIMEOUT_SECONDS
) -> ServerState | None:
    """The running server, started first if needed (one starter at a time, across processes)."""
    from filelock import FileLock

    folder = server_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / "start.lock"):
        state = running(root)
        if state:
            touch(root)
            return state
        touch(root)
        port = _free_port()
        log = (folder / "server.log").open("ab")
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "tools.lakeflow.spark_server", "serve", "--port", str(port)]
            + ["--root", str(root)],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(project.REPO_ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the doit process that started it
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if supervisor.poll() is not None:
                return None
            state = running(root)
            if state:
                return state
            time.sleep(POLL_SECONDS / 4)
        stop(root)
        return None


def stop(root: Path = project.REPO_ROOT) -> bool:
    """Stop the server if one runs; True when one was stopped."""
    state = running(root)
    if state is None:
        return False
    os.kill(state["pid"], signal.SIGTERM)
    for _ in range(200):
        if not _alive(state["pid"]):
            break
        time.sleep(0.05)
    return True


def stop_task() -> None:
    """`doit spark_stop`."""
    print("spark server stopped" if stop() else "no spark server was running")


# --- the supervisor process ---------------------------------------------------------------------
def spark_home(root: Path = project.REPO_ROOT) -> Path:
    """The Spark home Spark runs from (the server and the in-process session): links to the
    installed pyspark's `bin` and `jars`, and no `python/lib/pyspark.zip`. Spark puts that zip
    first on its Python workers' path, and it holds no bytecode: each worker process (one per
    stream run, more per session) compiled pyspark again, ~0.6 s of CPU. Without it they import
    the installed, compiled package."""
    spec = importlib.util.find_spec("pyspark")
    assert spec is not None and spec.origin is not None
    installed = Path(spec.origin).parent
    home = server_dir(root) / "home"
    home.mkdir(parents=True, exist_ok=True)
    for part in ("bin", "jars"):
        link = home / part
        if link.is_symlink() and os.readlink(link) == str(installed / part):
            continue
        staged = home / f".{part}.{os.getpid()}"  # another process may be making it too
        staged.unlink(missing_ok=True)
        staged.symlink_to(installed / part, target_is_directory=True)
        os.replace(staged, link)
    return home


def serve(port: int, root: Path = project.REPO_ROOT) -> int:
    from tools.lakeflow import spark_fork_server
    from tools.lakeflow.spark_check import SPARK_CONF

    confs = {
        **SPARK_CONF,
        "spark.connect.grpc.binding.address": "127.0.0.1",
        # A check's plans are tiny: the JVM's optimizing compiler (C2) spent more CPU warming
        # up over the first checks (~1.5 s a check) than its code ever saves; the quick one
        # (C1) alone compiles in a fraction of that. Logs below WARN cost CPU too.
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1",
        "spark.log.level": "WARN",
        "spark.connect.grpc.binding.port": str(port),
        # A check reattaches to the server-side session of the last check of its source (its
        # Python workers warm): keep those sessions as long as the server itself.
        "spark.connect.session.manager.defaultSessionTimeout": f"{int(idle_seconds()) + 600}s",
    }
    home = spark_home(root)
    command = [str(home / "bin" / "spark-submit"), "--master", "local[2]"]
    command += ["--name", "lakeflow-spark-check"]
    for key, value in confs.items():
        command += ["--conf", f"{key}={value}"]
    command += ["--class", SERVER_CLASS, "spark-internal"]
    # Stream runs get forked Python processes (tools/lakeflow/spark_fork_server.py): Spark's
    # Python is the fork server's launcher. A short socket path (a unix socket's is at most
    # ~100 bytes), whatever the repo's path.
    launcher = server_dir(root) / "python"
    launcher.write_text(spark_fork_server.launcher_script(sys.executable))
    launcher.chmod(0o755)
    sockets = tempfile.mkdtemp(prefix="lakeflow-spark-")
    fork_socket = os.path.join(sockets, "fork.sock")
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": str(launcher)}
    env[spark_fork_server.SOCKET_ENV] = fork_socket
    spark = subprocess.Popen(command, cwd=root, env=env, start_new_session=True)
    state_file = _state_file(root)
    state_file.write_text(json.dumps({"pid": os.getpid(), "port": port, "spark_pid": spark.pid}))
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append("signal"))
    forks = None
    try:
        try:
            forks = spark_fork_server.ForkServer(fork_socket)  # while the JVM starts
        except OSError as error:  # the launcher then runs each stream's own Python
            print(f"no fork server ({error}): stream runs start a new Python", flush=True)
        while not stopping and spark.poll() is None:
            try:
                idle = time.time() - _activity_file(root).stat().st_mtime
            except OSError:
                idle = 0.0
            if idle > idle_seconds():
                print(f"idle for {idle:.0f} s: stopping Spark", flush=True)
                break
            if forks is None:
                time.sleep(POLL_SECONDS)
            else:
                forks.serve(POLL_SECONDS)  # forks what Spark asks for while it waits
    finally:
        if forks is not None:
            forks.close()
        shutil.rmtree(sockets, ignore_errors=True)
        if spark.poll() is None:
            os.killpg(spark.pid, signal.SIGTERM)
            try:
                spark.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(spark.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, ValueError):
            if json.loads(state_file.read_text()).get("pid") == os.getpid():
                state_file.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_command = commands.add_parser("serve")
    serve_command.add_argument("--port", type=int, required=True)
    serve_command.add_argument("--root", type=Path, default=project.REPO_ROOT)
    commands.add_parser("start")
    commands.add_parser("stop")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args.port, args.root)
    if args.command == "start":
        state = start()
        print(state["url"] if state else "the Spark Connect server did not start")
        return 0 if state else 1
    stop_task()
    return 0


if __name__ == "__main__":
    sys.exit(main())
