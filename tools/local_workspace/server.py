"""The embedded local workspace: an HTTP server speaking the Databricks REST API on loopback.

`doit deploy:<s>` against the `local` target starts one in-process for the run; its state lives
under `.lakeflow/local/`, so every run (and `python -m tools.local_workspace`) shares it.
Every request served is appended to `requests.jsonl` as method, path and status: never bodies.

It is safe to leave running: it listens on 127.0.0.1 only (a free port, or LAKEFLOW_LOCAL_PORT),
and refuses a request without the workspace's bearer token (`<state dir>/token`, 0600), with a
Host header other than its own address (DNS rebinding), or with a JSON endpoint's body sent as
anything but application/json (a browser's cross-site form post). LAKEFLOW_LOCAL_LATENCY_MS
delays every request, to stand in for a real workspace's round trip.
"""

from __future__ import annotations

import functools
import hmac
import json
import os
import re
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from tools.local_workspace import router
from tools.local_workspace.api import ApiError, Request
from tools.local_workspace.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]
PORT_ENV = "LAKEFLOW_LOCAL_PORT"
LATENCY_ENV = "LAKEFLOW_LOCAL_LATENCY_MS"
FAULT_CODES = {
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    409: "RESOURCE_ALREADY_EXISTS",
    429: "TOO_MANY_REQUESTS",
}
HOST_METADATA = "/.well-known/databricks-config"  # public on a real workspace too


def default_state_dir(root: Path = REPO_ROOT) -> Path:
    """Where `doit` keeps the local target's workspace (the engine's `.lakeflow/local/`)."""
    return root / ".lakeflow" / "local"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # set on the subclass built per server
    store: Store
    token: str
    latency_seconds: float
    in_flight: InFlight
    kill_pid: int | None = None  # set per request by a kill fault

    def log_message(self, format, *args):  # noqa: A002 - the request log is requests.jsonl
        return

    def _dispatch(self) -> None:
        with self.in_flight:
            self._serve()

    def _serve(self) -> None:
        if self.latency_seconds:
            time.sleep(self.latency_seconds)
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.kill_pid = None
        refusal = self._refusal(url.path, raw)
        if refusal:
            status, code, message = refusal
            return self._send(status, {"error_code": code, "message": message}, url.path)
        fault = self._take_fault(self.command, url.path)
        self.kill_pid = fault.get("kill_pid") if fault else None
        if self.kill_pid:
            fault = None  # served normally, then the client is killed instead of answered
        if fault and fault.get("drop"):
            self.store.log_request(self.command, url.path, 0, self.in_flight.seen)
            self.close_connection = True
            self.connection.close()
            return
        if fault:
            headers = {"Retry-After": str(fault["retry_after"])} if fault.get("retry_after") else {}
            code = FAULT_CODES.get(fault["status"], "TEMPORARILY_UNAVAILABLE")
            body = {"error_code": code, "message": "injected fault"}
            return self._send(fault["status"], body, url.path, headers)
        if url.path == HOST_METADATA:
            return self._send(200, {}, url.path)  # no host metadata: the SDK uses its own config
        found = router.route(self.command, url.path)
        if found is None:
            body = {"error_code": "ENDPOINT_NOT_FOUND", "message": "no such endpoint"}
            return self._send(404, body, url.path)
        handler, groups = found
        request = Request(self.command, url.path, dict(parse_qsl(url.query)), raw=raw)
        request.store = self.store
        try:
            if raw and not router.takes_raw_body(url.path):
                request.body = json.loads(raw)
            with self.store.transaction() as state:
                status, body = handler(state, request, *groups)
        except ApiError as error:
            status, body = error.status, {"error_code": error.code, "message": error.message}
        except (ValueError, KeyError, TypeError) as error:
            status, body = 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": str(error)}
        self._send(status, body, url.path)

    def _refusal(self, path: str, raw: bytes) -> tuple[int, str, str] | None:
        """(status, error code, message) when the request must not be served."""
        port = self.server.server_address[1]
        host = self.headers.get("Host")
        if host not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            return (
                403,
                "PERMISSION_DENIED",
                f"Host {host!r} is not this workspace (127.0.0.1:{port})",
            )
        if path != HOST_METADATA:
            scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.encode(), self.token.encode()
            ):
                token_file = self.store.token_path
                return (
                    401,
                    "UNAUTHENTICATED",
                    f"a bearer token is required (the one in {token_file})",
                )
        if raw and not router.takes_raw_body(path):
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return 415, "INVALID_PARAMETER_VALUE", "the body must be sent as application/json"
        return None

    def _take_fault(self, method: str, path: str) -> dict | None:
        with self.store.transaction() as state:
            for fault in state["faults"]:
                if fault["method"] in (method, "*") and re.search(fault["path_regex"], path):
                    if fault.get("after", 0) > 0:
                        fault["after"] -= 1
                        return None
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        state["faults"].remove(fault)
                    return dict(fault)
        return None

    def _send(self, status: int, body, path: str, headers: dict | None = None) -> None:
        self.store.log_request(self.command, path, status, self.in_flight.seen)
        if self.kill_pid:
            os.kill(self.kill_pid, signal.SIGKILL)
            self.close_connection = True
            return
        if isinstance(body, bytes):
            payload, content_type = body, "application/octet-stream"
        elif body is None:
            payload, content_type = b"", "application/json"
        else:
            payload, content_type = json.dumps(body).encode(), "application/json"
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class InFlight:
    """How many requests the server served at once. Each request logs the most it saw in flight
    while it was (itself included), so a test can tell requests sent together from requests sent
    one after another."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._peaks: dict[int, int] = {}  # thread of each request in flight → the most it saw

    def __enter__(self) -> None:
        with self._lock:
            self._peaks[threading.get_ident()] = 0
            count = len(self._peaks)
            for thread in self._peaks:
                self._peaks[thread] = max(self._peaks[thread], count)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._peaks.pop(threading.get_ident(), None)

    @property
    def seen(self) -> int:
        """The most requests in flight at once while this thread's request was."""
        with self._lock:
            return self._peaks.get(threading.get_ident(), 1)


class LocalWorkspace:
    """`LocalWorkspace(state_dir).start()` → base URL of a workspace served from a daemon thread."""

    def __init__(
        self, state_dir: Path | None = None, port: int | None = None, latency_ms: int | None = None
    ):
        self.state_dir = Path(state_dir) if state_dir else default_state_dir()
        self.store = Store(self.state_dir)
        self.token = self.store.token()
        self.port = _setting(PORT_ENV, port)
        self.latency_ms = _setting(LATENCY_ENV, latency_ms)
        self.url: str | None = None
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        attributes = {
            "store": self.store,
            "token": self.token,
            "latency_seconds": self.latency_ms / 1000,
            "in_flight": InFlight(),
        }
        handler = type("LocalWorkspaceHandler", (_Handler,), attributes)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        serve = functools.partial(self._server.serve_forever, poll_interval=0.05)  # quick stop()
        threading.Thread(target=serve, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> LocalWorkspace:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def inject_fault(
        self,
        method: str = "*",
        path_regex: str = ".*",
        status: int = 503,
        retry_after: int | None = None,
        times: int = 1,
        drop: bool = False,
        after: int = 0,
        kill_pid: int | None = None,
    ) -> None:
        """Make `times` matching requests fail, after letting `after` of them through.

        With `kill_pid`, a matching request is served, then that process is SIGKILLed instead of
        answered: a deploy dies right after a write it never learns about.

        Faults are kept on disk, so a workspace served by another process (a `doit` run) sees them.
        """
        fault = {
            "after": after,
            "method": method,
            "path_regex": path_regex,
            "status": status,
            "retry_after": retry_after,
            "times": times,
            "drop": drop,
            "kill_pid": kill_pid,
        }
        with self.store.transaction() as state:
            state["faults"].append(fault)

    def requests(self) -> list[dict]:
        log = self.state_dir / "requests.jsonl"
        if not log.is_file():
            return []
        return [json.loads(line) for line in log.read_text().splitlines() if line]


def _setting(env: str, given: int | None) -> int:
    """`given`, else the environment variable `env`, else 0."""
    if given is not None:
        return given
    raw = os.environ.get(env, "").strip()
    if raw and not raw.isdigit():
        raise ValueError(f"{env}={raw!r}: expected a whole number")
    return int(raw or 0)
