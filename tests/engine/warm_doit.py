"""`python -m doit` in a new process that starts warm, for the tests' doit runs.

A new interpreter spends ~1.5 s of CPU importing databricks-sdk and doit before doit reads
dodo.py, and the engine tests run a hundred or more of them. One server per pytest process imports
those third-party libraries once, then forks a child per run. The child is a separate process
like `python -m doit`: its own working directory, environment, sys.path, argv and standard
streams, and it imports the project (dodo.py, tools/, libs/) afresh from the sandbox, since the
server never imports anything of the project. LAKEFLOW_TEST_COLD_DOIT=1 runs plain subprocesses.

Protocol on a Unix socket: the client sends its stdin, stdout and stderr as file descriptors with
a JSON request {argv, cwd, env}, then closes its writing side; the server answers with the child's
pid, a newline, and, once the child exited, its exit code.
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import runpy
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path

PRELOADED = ("databricks.sdk", "doit.doit_cmd", "yaml", "requests", "jinja2")


def serve(socket_path: str) -> None:
    """The server: preload, then fork one child per request until stdin (the client) closes."""
    base_path = sys.path[1:]  # without this script's folder, as `python -m` would not have it
    for name in PRELOADED:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(8)
    print("ready", flush=True)
    while True:
        readable, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in readable and not sys.stdin.buffer.read1(1):
            return  # the pytest process that started this server is gone
        if listener in readable:
            conn, _ = listener.accept()
            with conn:
                _serve_one(conn, listener, base_path)


def _serve_one(conn: socket.socket, listener: socket.socket, base_path: list[str]) -> None:
    first, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    chunks = [first]
    while chunk := conn.recv(1 << 16):
        chunks.append(chunk)
    request = json.loads(b"".join(chunks))
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        listener.close()
        conn.close()
        _run_doit(request, fds, base_path)  # never returns
    for fd in fds:
        os.close(fd)
    conn.sendall(f"{pid}\n".encode())
    _, status = os.waitpid(pid, 0)
    conn.sendall(str(os.waitstatus_to_exitcode(status)).encode())


def _run_doit(request: dict, fds: list[int], base_path: list[str]) -> None:
    """In the forked child: become `python -m doit <argv>` run from `cwd` with `env`."""
    code = 1
    try:
        for target, fd in zip((0, 1, 2), fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.path[:] = [request["cwd"], *extra, *base_path]
        sys.dont_write_bytecode = bool(request["env"].get("PYTHONDONTWRITEBYTECODE"))
        sys.argv = ["doit", *request["argv"]]
        try:
            runpy.run_module("doit", run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as exit_:
            if exit_.code is None or isinstance(exit_.code, int):
                code = exit_.code or 0
            else:
                print(exit_.code, file=sys.stderr)
    except BaseException:  # what an uncaught exception does to `python -m doit`
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


class WarmDoit:
    """The client side: one server for this process, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._server: subprocess.Popen | None = None
        self._socket = ""

    def _start(self) -> None:
        folder = tempfile.mkdtemp(prefix="warm-doit-")
        self._socket = os.path.join(folder, "socket")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        self._server = subprocess.Popen(
            [sys.executable, __file__, self._socket],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=folder,
            env=env,
        )
        assert self._server.stdout is not None
        if self._server.stdout.readline().strip() != b"ready":
            raise RuntimeError("the warm doit server did not start")
        atexit.register(self.stop)

    def stop(self) -> None:
        if self._server is not None and self._server.poll() is None:
            assert self._server.stdin is not None
            self._server.stdin.close()  # the server returns on EOF
            self._server.wait(timeout=30)
        if self._socket:
            shutil.rmtree(os.path.dirname(self._socket), ignore_errors=True)

    def run(self, argv: list[str], cwd: Path, env: dict, timeout: float):
        """Like subprocess.run([python, -m, doit, *argv], capture_output=True, text=True)."""
        with self._lock:
            if self._server is None or self._server.poll() is not None:
                self._start()
            with (
                tempfile.TemporaryFile("w+") as out,
                tempfile.TemporaryFile("w+") as err,
                socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn,
            ):
                conn.connect(self._socket)
                request = json.dumps({"argv": argv, "cwd": str(cwd), "env": env}).encode()
                socket.send_fds(conn, [request], [0, out.fileno(), err.fileno()])
                conn.shutdown(socket.SHUT_WR)
                conn.settimeout(timeout)
                reply = b""
                try:
                    while chunk := conn.recv(64):
                        reply += chunk
                except TimeoutError:
                    pid = reply.split(b"\n")[0]
                    if pid:
                        os.kill(int(pid), 9)
                    raise subprocess.TimeoutExpired(["doit", *argv], timeout) from None
                pid, code = reply.split(b"\n")
                out.seek(0)
                err.seek(0)
                return subprocess.CompletedProcess(
                    ["doit", *argv], int(code), out.read(), err.read()
                )


if __name__ == "__main__":
    serve(sys.argv[1])
