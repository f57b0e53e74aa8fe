"""The simulator framework: a vendor API is a `Simulator` subclass with routes and seeded data.

    class PetsSimulator(Simulator):
        service_name = "pets"

        def seed_data(self):
            self.pets = self.collection()
            ...

        def check_auth(self, request):
            if request.bearer_token() != "good":
                return Response.json({"error": "unauthorized"}, status=401)
            return None

        @route("GET", "/pets/{pet_id}")
        def get_pet(self, request):
            return self.pets.get(int(request.params["pet_id"]))

    with PetsSimulator(seed=1) as sim:
        requests.get(f"{sim.url}/pets/1", headers=...)

The server is a ThreadingHTTPServer on 127.0.0.1, port 0, run in a daemon thread. Everything a
test needs to steer or inspect the API lives on the instance: `clock`, `fail_next(...)`, `log`.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import json
import random
import re
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tools.simulator.clock import SimClock
from tools.simulator.store import ChangeHook, Collection

REDACTED = "***"


class HttpError(Exception):
    """Raise from a handler to answer with an error status (body is JSON-encoded)."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body if body is not None else {"error": _reason(status)}
        self.headers = headers or {}


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        merged = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        return cls(status, json.dumps(data).encode(), merged)

    @classmethod
    def text(cls, text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        merged = {"Content-Type": "text/plain; charset=utf-8", **(headers or {})}
        return cls(status, text.encode(), merged)

    @classmethod
    def empty(cls, status: int = 204, headers: dict[str, str] | None = None) -> Response:
        return cls(status, b"", dict(headers or {}))


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: email.message.Message  # case-insensitive .get()
    body: bytes
    base_url: str
    params: dict[str, str] = field(default_factory=dict)  # named parts of the route pattern

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The first value of query parameter `name`."""
        values = self.query.get(name)
        return values[0] if values else default

    def int_arg(self, name: str, default: int, *, minimum: int = 0, maximum: int | None = None):
        """An integer query parameter, 400 when it is not one; clamped like real APIs do."""
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise HttpError(400, {"error": f"{name} must be an integer, got {raw!r}"}) from None
        value = max(minimum, value)
        return min(value, maximum) if maximum is not None else value

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise HttpError(400, {"error": "request body is not valid JSON"}) from None

    def form(self) -> dict[str, str]:
        """An application/x-www-form-urlencoded body (OAuth token requests)."""
        parsed = parse_qs(self.body.decode(), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def authorization(self) -> tuple[str, str] | None:
        """(scheme lower-cased, credentials) from the Authorization header."""
        value = self.header("Authorization")
        if not value or " " not in value.strip():
            return None
        scheme, _, credentials = value.strip().partition(" ")
        return scheme.lower(), credentials.strip()

    def bearer_token(self, schemes: Iterable[str] = ("bearer",)) -> str | None:
        auth = self.authorization()
        if auth and auth[0] in {s.lower() for s in schemes}:
            return auth[1]
        return None

    def basic_auth(self) -> tuple[str, str] | None:
        auth = self.authorization()
        if not auth or auth[0] != "basic":
            return None
        try:
            user, sep, password = base64.b64decode(auth[1], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user, password) if sep else None

    def url_with(self, **query: Any) -> str:
        """This request's absolute URL with some query parameters replaced (None removes one)."""
        merged = {k: list(v) for k, v in self.query.items()}
        for name, value in query.items():
            if value is None:
                merged.pop(name, None)
            else:
                merged[name] = [str(value)]
        return build_url(self.base_url, self.path, merged)


@dataclass
class LoggedRequest:
    """One request as the simulator saw it: no headers, secret query values redacted."""

    method: str
    path: str
    query: dict[str, list[str]]
    status: int = 0

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Fault:
    status: int
    times: int
    headers: dict[str, str]
    body: Any
    path: str | None
    method: str | None

    def matches(self, request: Request) -> bool:
        if self.method and request.method != self.method.upper():
            return False
        return self.path is None or request.path.startswith(self.path)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str
    regex: re.Pattern
    handler_name: str
    auth: bool


def route(method: str, pattern: str, *, auth: bool = True) -> Callable:
    """Mark a Simulator method as the handler of `method pattern`.

    `{name}` matches one path segment, `{name:path}` the rest of the path (slashes included); both
    land in `request.params`. `auth=False` skips `check_auth` (token endpoints, health checks).
    """

    def mark(func: Callable) -> Callable:
        func.__dict__.setdefault("_sim_routes", []).append((method.upper(), pattern, auth))
        return func

    return mark


def _compile(pattern: str) -> re.Pattern:
    out, pos = [], 0
    for match in re.finditer(r"\{(\w+)(:path)?\}", pattern):
        out.append(re.escape(pattern[pos : match.start()]))
        out.append(
            f"(?P<{match.group(1)}>.+)" if match.group(2) else f"(?P<{match.group(1)}>[^/]+)"
        )
        pos = match.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("^" + "".join(out) + "$")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def build_url(base_url: str, path: str, query: dict[str, Any] | None = None) -> str:
    """Absolute URL; query values may be scalars or lists (repeated parameters)."""
    url = base_url.rstrip("/") + path
    if query:
        url += "?" + urlencode(query, doseq=True)
    return url


def link_header(links: dict[str, str | None]) -> str:
    """An RFC 8288 Link header from {rel: url}; None URLs are left out."""
    return ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)


def encode_cursor(state: dict) -> str:
    """An opaque page cursor (like Zendesk's after_cursor or HubSpot's `after`)."""
    return base64.urlsafe_b64encode(json.dumps(state, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str) -> dict:
    """The state of a cursor from `encode_cursor`; a tampered one is the client's 400."""
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, binascii.Error):
        raise HttpError(400, {"error": f"invalid cursor {cursor!r}"}) from None
    if not isinstance(state, dict):
        raise HttpError(400, {"error": f"invalid cursor {cursor!r}"})
    return state


def paginate(items: list, page: int, per_page: int) -> tuple[list, bool]:
    """1-based page slice and whether another page follows."""
    start = (max(page, 1) - 1) * per_page
    return items[start : start + per_page], start + per_page < len(items)


class Simulator:
    """Base class of every API simulator. Subclasses add routes, seed data and vendor shapes."""

    service_name = "api"
    # Query parameters whose values never reach the request log.
    secret_query_params: frozenset[str] = frozenset(
        {"access_token", "api_key", "apikey", "token", "client_secret", "key", "password"}
    )
    _routes: tuple[Route, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        found: list[Route] = []
        seen: set[str] = set()
        for klass in cls.__mro__:
            for name, value in vars(klass).items():
                if name in seen:
                    continue
                seen.add(name)
                for method, pattern, auth in getattr(value, "_sim_routes", ()):
                    found.append(Route(method, pattern, _compile(pattern), name, auth))
        # Literal routes win over parameterised ones that would also match.
        found.sort(key=lambda r: (r.pattern.count("{"), -len(r.pattern)))
        cls._routes = tuple(found)

    def __init__(self, seed: int = 0, *, clock: SimClock | None = None):
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = clock or SimClock()
        self.lock = threading.RLock()
        self.log: list[LoggedRequest] = []
        self._faults: list[Fault] = []
        self._ids: dict[str, int] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.seed_data()

    # ----- hooks for subclasses -------------------------------------------------------------

    def seed_data(self) -> None:
        """Create the deterministic initial data (use self.rng and self.clock)."""

    def check_auth(self, request: Request) -> Response | None:
        """None when the request is authorised, else the vendor's 401/403 response."""
        return None

    def before_request(self, request: Request) -> Response | None:
        """Runs after auth, before the handler; a Response short-circuits (e.g. rate limits)."""
        return None

    def after_response(self, request: Request, response: Response) -> None:
        """Adjust every response (e.g. add rate-limit headers)."""

    def error_body(self, status: int, message: str) -> Any:
        """The vendor's error body shape, used for 404s and injected faults."""
        return {"error": message}

    # ----- helpers for subclasses and tests -------------------------------------------------

    def collection(self, *, key: str = "id", on_change: ChangeHook | None = None) -> Collection:
        return Collection(self.clock, key=key, on_change=on_change, lock=self.lock)

    def next_id(self, kind: str = "id", start: int = 1) -> int:
        with self.lock:
            self._ids[kind] = self._ids.get(kind, start - 1) + 1
            return self._ids[kind]

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        path: str | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` instead of serving them.

        `path` is a path prefix to match (None: any request). `retry_after` sets Retry-After
        (seconds or an HTTP date string); `headers` adds any others (e.g. rate-limit headers).
        """
        all_headers = dict(headers or {})
        if retry_after is not None:
            all_headers["Retry-After"] = str(retry_after)
        if body is None:
            body = self.error_body(status, _reason(status))
        with self.lock:
            self._faults.append(Fault(status, times, all_headers, body, path, method))

    def pending_faults(self) -> int:
        with self.lock:
            return sum(f.times for f in self._faults)

    def requests_to(self, path_prefix: str, method: str | None = None) -> list[LoggedRequest]:
        with self.lock:
            return [
                r
                for r in self.log
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
            ]

    def clear_log(self) -> None:
        with self.lock:
            self.log.clear()

    # ----- server lifecycle -------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running; use it as a context manager")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ----- dispatch ---------------------------------------------------------------------------

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """(route, params, path_known): path_known tells 405 from 404."""
        path_known = False
        for candidate in self._routes:
            found = candidate.regex.match(path)
            if not found:
                continue
            path_known = True
            if candidate.method == method:
                return candidate, found.groupdict(), True
        return None, {}, path_known

    def _take_fault(self, request: Request) -> Fault | None:
        for fault in self._faults:
            if fault.times > 0 and fault.matches(request):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _redacted_query(self, query: dict[str, list[str]]) -> dict[str, list[str]]:
        return {
            k: ([REDACTED] * len(v) if k.lower() in self.secret_query_params else list(v))
            for k, v in query.items()
        }

    def handle(self, request: Request) -> Response:
        """Route one request; runs under the simulator's lock so tests see consistent data."""
        with self.lock:
            entry = LoggedRequest(request.method, request.path, self._redacted_query(request.query))
            self.log.append(entry)
            response = self._dispatch(request)
            self.after_response(request, response)
            entry.status = response.status
            return response

    def _dispatch(self, request: Request) -> Response:
        fault = self._take_fault(request)
        if fault is not None:
            return Response.json(fault.body, status=fault.status, headers=fault.headers)
        found, params, path_known = self._match(request.method, request.path)
        if found is None or found.auth:
            denied = self.check_auth(request)
            if denied is not None:
                return denied
        if found is None:
            status = 405 if path_known else 404
            return Response.json(self.error_body(status, _reason(status)), status=status)
        request.params = params
        try:
            early = self.before_request(request)
            if early is not None:
                return early
            result = getattr(self, found.handler_name)(request)
        except HttpError as exc:
            return Response.json(exc.body, status=exc.status, headers=exc.headers)
        if isinstance(result, Response):
            return result
        return Response.json(result)


def _make_handler(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request per connection, so shutdown never waits on an idle keep-alive.
        protocol_version = "HTTP/1.0"

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host, port = self.server.server_address[:2]
            request = Request(
                method=self.command,
                path=parts.path,
                query=parse_qs(parts.query, keep_blank_values=True),
                headers=self.headers,
                body=body,
                base_url=f"http://{host}:{port}",
            )
            try:
                response = sim.handle(request)
            except Exception:  # a simulator bug: answer 500 and show it in the test output
                traceback.print_exc(file=sys.stderr)
                response = Response.json({"error": "simulator error"}, status=500)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass  # the simulator keeps its own (secret-free) log

    return Handler
