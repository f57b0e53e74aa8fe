"""Warm Python processes for the warm Spark's stream runs: forked, not started.

Spark runs each stream of a Python data source with a Python process of its own
(`python -m pyspark.sql.streaming.python_streaming_source_runner`), started afresh for every run
and never through its worker daemon; importing pyspark, pyarrow and numpy there costs ~0.3 s of
CPU, and a check runs six of them. The warm server's Python (PYSPARK_PYTHON) is this file run as a
launcher. For that runner it asks the fork server (inside the server's supervisor, which imported
the runner's modules once) for a forked child, which takes the launcher's environment, working
directory and standard streams and runs the module as `python -m` would: the data source is
unpickled from what Spark sends, as in a new process. Any other command (the worker daemons), or
no fork server, execs the real Python: the same as before, only slower.

As a launcher (`python -I -S spark_fork_server.py <args>`) it imports only the standard library.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import socket
import struct
import sys

RUNNER = "pyspark.sql.streaming.python_streaming_source_runner"
RUNNER_ARGS = ["-m", RUNNER]
SOCKET_ENV = "LAKEFLOW_SPARK_FORK_SERVER"  # the fork server's unix socket, set for the launcher
# Imported once by the fork server: the runner, what pyspark's Arrow conversion imports on a
# run's first batch (pandas alone is ~0.2 s), and the HTTP library connectors read with.
PRELOADED = (RUNNER, "pandas", "pyarrow.compute", "pyarrow.pandas_compat", "requests")
STREAMS = 3  # stdin, stdout, stderr
INT = struct.Struct("!i")


# --- the launcher (Spark's Python) -----------------------------------------------------------
def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("fork server closed the connection")
        data += chunk
    return data


def _forked(path: str, args: list[str]) -> int | None:
    """Run `args` in a child of the fork server; its exit code, or None when no child started
    (then the caller runs them itself)."""
    request = json.dumps({"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(path)
        socket.send_fds(sock, [INT.pack(len(request))], list(range(STREAMS)))
        sock.sendall(request)
        (child,) = INT.unpack(_read_exact(sock, INT.size))
    except OSError:
        return None

    def terminate(*_: object) -> None:  # Spark stops a worker so: pass it on to the child
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGTERM)
        os._exit(128 + signal.SIGTERM)

    signal.signal(signal.SIGTERM, terminate)
    try:
        code: int = INT.unpack(_read_exact(sock, INT.size))[0]
    except OSError:
        return 1  # the child died without a word: a failure, never a second runner
    return code


def launch(args: list[str]) -> None:
    path = os.environ.get(SOCKET_ENV)
    if path and args == RUNNER_ARGS:
        code = _forked(path, args)
        if code is not None:
            os._exit(code & 0xFF)
    os.execv(sys.executable, [sys.executable, *args])


# --- the fork server (in the warm server's supervisor) ---------------------------------------
class ForkServer:
    """Listens on a unix socket; forks a child per launcher that connects. `serve(timeout)` is
    the supervisor's wait between its idle checks."""

    def __init__(self, path: str):
        import gc
        import importlib

        for name in PRELOADED:
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        gc.freeze()  # children share the imported modules' pages instead of copying them
        self.path = path
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(path)
        self.listener.listen(16)
        self.selector = selectors.DefaultSelector()
        self.selector.register(self.listener, selectors.EVENT_READ)
        self.children: set[int] = set()

    def serve(self, timeout: float) -> None:
        for _ in self.selector.select(timeout):
            try:
                connection, _ = self.listener.accept()
            except OSError:
                continue
            with connection:
                try:
                    pid = os.fork()
                except OSError:
                    continue  # the launcher, refused, starts a new Python instead
                if pid == 0:
                    self._child(connection)  # never returns
            self.children.add(pid)
        for pid in list(self.children):  # reap the children that ended
            with contextlib.suppress(ChildProcessError):
                if os.waitpid(pid, os.WNOHANG)[0] == 0:
                    continue
            self.children.discard(pid)

    def close(self) -> None:
        self.selector.close()
        self.listener.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def _child(self, connection: socket.socket) -> None:
        code = 1
        try:
            self.selector.close()
            self.listener.close()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the supervisor's handler
            header, streams, _, _ = socket.recv_fds(connection, INT.size, STREAMS)
            request = json.loads(_read_exact(connection, INT.unpack(header)[0]))
            if request["args"] != RUNNER_ARGS or len(streams) != STREAMS:
                raise ValueError(f"the fork server runs only {RUNNER}, not {request['args']}")
            for target, stream in enumerate(streams):
                os.dup2(stream, target)
                os.close(stream)
            os.environ.clear()
            os.environ.update(request["env"])
            os.chdir(request["cwd"])
            connection.sendall(INT.pack(os.getpid()))
            code = _run_module(RUNNER)
        except BaseException:  # noqa: BLE001 - reported on the launcher's stderr, then exit 1
            import traceback

            traceback.print_exc()
        finally:
            for output in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    output.flush()
            with contextlib.suppress(OSError):
                connection.sendall(INT.pack(code))
            os._exit(code & 0xFF)


def _run_module(name: str) -> int:
    """`python -m name` in this process; its exit code."""
    import runpy

    sys.argv = [name]
    try:
        runpy.run_module(name, run_name="__main__", alter_sys=True)
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    return 0


def launcher_script(python: str) -> str:
    """The executable Spark runs as its Python: a shell line that starts this file's launcher."""
    import shlex

    launcher = shlex.quote(os.path.abspath(__file__))
    return f'#!/bin/sh\nexec {shlex.quote(python)} -I -S {launcher} "$@"\n'


if __name__ == "__main__":
    launch(sys.argv[1:])
