"""How the engine builds its databricks-sdk client, and what it says when the workspace fails.

Fast: a host that does not resolve, refuses connections or never answers fails in about 12 s
(one silent attempt of HTTP_TIMEOUT_SECONDS, or TRANSPORT_RETRY_SECONDS of retries), not after
the SDK's default five minutes.
Throttling honoured: a 429/503 waits what its Retry-After asks, up to
LAKEFLOW_MAX_RETRY_AFTER_SECONDS, and that wait does not use up the retry budget. A longer ask
fails at once and says so, rather than being cut short.
Clear: `explain(error)` turns what the SDK raised into one line that names the host and the
target, with a hint.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.clock import Clock
from databricks.sdk.core import Config
from databricks.sdk.errors import (
    PermissionDenied,
    ResourceConflict,
    TooManyRequests,
    Unauthenticated,
)
from databricks.sdk.errors.base import DatabricksError

from tools.lakeflow.errors import LakeflowError

HTTP_TIMEOUT_SECONDS = 10
TRANSPORT_RETRY_SECONDS = 3
MAX_RETRY_AFTER_ENV = "LAKEFLOW_MAX_RETRY_AFTER_SECONDS"
DEFAULT_MAX_RETRY_AFTER_SECONDS = 60
TARGETS_FILE = "targets.yaml"

# The workspace the client built last talks to, so a failure can name it (one per doit run).
_connected: dict[str, str] = {}


def connect(
    target: str, *, host: str | None = None, token: str | None = None, profile: str | None = None
) -> WorkspaceClient:
    """A client for `target` (a targets.yaml name), with the timeouts and throttling above."""
    if host is not None:
        _check_host(host, target)
    _connected.update(host=host or f"profile {profile}", target=target)
    probe = _HostProbe()
    logger = logging.getLogger("databricks.sdk")
    logger.addFilter(probe)
    try:
        config = Config(
            host=host,
            token=token,
            profile=profile,
            retry_timeout_seconds=TRANSPORT_RETRY_SECONDS,
            http_timeout_seconds=HTTP_TIMEOUT_SECONDS,
            clock=ThrottleClock(max_retry_after_seconds()),
        )
    except ValueError as error:
        if probe.unreachable is not None:  # no use blaming the credentials
            raise _explained(probe.unreachable) from None
        field = f"targets.{target}.{'profile' if profile else 'host'}"
        message = str(error).splitlines()[0]
        hint = "run `databricks auth login` or check ~/.databrickscfg" if profile else None
        raise LakeflowError(message, file=TARGETS_FILE, field=field, hint=hint) from None
    finally:
        logger.removeFilter(probe)
    _connected.update(host=config.host)
    if probe.unreachable is not None:
        raise _explained(probe.unreachable) from None
    return WorkspaceClient(config=config)


def _check_host(host: str, target: str) -> None:
    parts = urlsplit(host.strip())
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
        valid = parts.scheme in ("https", "http") and bool(parts.hostname) and " " not in host
    except ValueError:
        valid = False
    if not valid:
        bare = host.strip() and not any(c in host.strip() for c in ":/ ")
        hint = f"did you mean https://{host.strip()}?" if bare else "expected https://<host>"
        raise LakeflowError(
            f"{host!r} is not a URL", file=TARGETS_FILE, field=f"targets.{target}.host", hint=hint
        )


def max_retry_after_seconds() -> int:
    raw = os.environ.get(MAX_RETRY_AFTER_ENV, "").strip()
    if raw and not raw.isdigit():
        raise LakeflowError(
            f"expected a whole number of seconds, got {raw!r}", field=MAX_RETRY_AFTER_ENV
        )
    return int(raw) if raw else DEFAULT_MAX_RETRY_AFTER_SECONDS


class ThrottledTooLong(Exception):
    def __init__(self, asked: float, cap: int):
        super().__init__(f"asked to wait {asked:g} s, more than the cap of {cap} s")
        self.asked, self.cap = asked, cap


class ThrottleClock(Clock):
    """The clock the SDK's retry loop reads and sleeps with (`Config(clock=...)`).

    The SDK sleeps while it handles the failed attempt, so `sys.exc_info()` tells a throttled
    attempt (the error carries Retry-After as `retry_after_secs`) from a transport failure. A
    throttled wait up to the cap is honoured and, up to `cap` seconds within any 2 × cap, not
    charged to the retry budget (so endless throttling still ends); a longer ask raises.
    """

    def __init__(self, cap: int):
        self.cap = cap
        self._lock = threading.Lock()
        self._recent: deque[tuple[float, float]] = deque()  # (when, seconds) credited
        self._credited = 0.0

    def time(self) -> float:
        return time.time() - self._credited

    def sleep(self, seconds: float) -> None:
        asked = getattr(sys.exc_info()[1], "retry_after_secs", None)
        if asked is not None and asked > self.cap:
            raise ThrottledTooLong(asked, self.cap)
        time.sleep(seconds)
        if asked is not None:
            self._credit(seconds)

    def _credit(self, seconds: float) -> None:
        now = time.time()
        with self._lock:
            while self._recent and self._recent[0][0] < now - 2 * self.cap:
                self._recent.popleft()
            if sum(s for _, s in self._recent) + seconds <= self.cap:
                self._recent.append((now, seconds))
                self._credited += seconds


class _HostProbe(logging.Filter):
    """`Config()` asks the host for /.well-known/databricks-config and only logs a warning when
    that fails. A transport failure there means the host is unreachable: keep the error (the
    filter runs inside the SDK's except block) so `connect` fails now, in one line."""

    def __init__(self) -> None:
        super().__init__()
        self.unreachable: BaseException | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if "host metadata" not in record.getMessage():
            return True
        error = sys.exc_info()[1]
        if error is not None and _transport_failure(error):
            self.unreachable = error
        return False  # the failure is reported by connect, or the fallback is fine


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    seen = 0
    while error is not None and seen < 8:
        yield error
        error, seen = error.__cause__ or error.__context__, seen + 1


def _transport_failure(error: BaseException) -> str | None:
    """What went wrong below HTTP, in words, or None when the workspace did answer."""
    for link in _chain(error):
        if isinstance(link, requests.RequestException) and not _to_workspace(link):
            return None
        if isinstance(link, requests.Timeout):
            return f"no answer within {HTTP_TIMEOUT_SECONDS} s"
        if isinstance(link, requests.ConnectionError):
            text = str(link)
            if "NameResolutionError" in text or "Failed to resolve" in text:
                return "the host name does not resolve"
            if "refused" in text.lower():
                return "connection refused"
            if "Read timed out" in text:
                return f"no answer within {HTTP_TIMEOUT_SECONDS} s"
            return "the connection failed"
    return None


def _to_workspace(error: requests.RequestException) -> bool:
    """Whether the failed request went to the workspace (not, say, a connector's own API)."""
    request = getattr(error, "request", None)
    if request is None or not request.url or "://" not in _connected.get("host", ""):
        return True  # nothing to tell it apart: the engine's requests go to the workspace
    return urlsplit(str(request.url)).netloc == urlsplit(_connected["host"]).netloc


def _explained(error: BaseException) -> LakeflowError:
    return explain(error) or LakeflowError(str(error))


def explain(error: BaseException) -> LakeflowError | None:
    """One line with a hint for a failure talking to the workspace; None if it is not one."""
    if not _connected:
        return None  # no workspace client was built in this process
    where = f"{_connected.get('host', 'the workspace')} (target {_connected.get('target')!r})"
    target_field = f"targets.{_connected.get('target')}"
    transport = _transport_failure(error)
    if transport:
        return LakeflowError(
            f"cannot reach {where}: {transport}",
            hint=f"check the host of {target_field} in {TARGETS_FILE}, and your network",
        )
    throttled = next((e for e in _chain(error) if isinstance(e, ThrottledTooLong)), None)
    if throttled:
        return LakeflowError(
            f"{where} is throttling requests and {throttled}",
            hint=f"deploy again later, or raise {MAX_RETRY_AFTER_ENV}",
        )
    api_error = next((e for e in _chain(error) if isinstance(e, DatabricksError)), None)
    if api_error is None:
        return None
    status, hint = next(
        ((status, hint) for kind, status, hint in _API_FAILURES if isinstance(api_error, kind)),
        (api_error.error_code or type(api_error).__name__, None),
    )
    if isinstance(error, TimeoutError):
        hint = f"it kept failing through {TRANSPORT_RETRY_SECONDS} s of retries; try again later"
    detail = str(api_error).splitlines()[0] if str(api_error) else type(api_error).__name__
    return LakeflowError(f"{where}: {detail} ({status})", hint=hint)


_API_FAILURES = (
    (Unauthenticated, "401", "the token or profile of the target is wrong or expired; renew it"),
    (PermissionDenied, "403", "this identity lacks the permission: ask an admin or use another"),
    (ResourceConflict, "409", "the name is taken by something deploy did not create: rename it"),
    (TooManyRequests, "429", None),
)
