"""The one retry/backoff helper every HTTP connector shares.

The merge inlines this module into each connector's generated file, so it uses only the stdlib and
`requests`, keeps no global state and its top-level names are specific enough not to clash.

    policy = RetryPolicy(service="github")
    response = request_with_retry(session, "GET", url, policy=policy, params={...})

What it does with a response:
- 2xx/3xx: returned.
- 429, or 403 that carries rate-limit signals: waits as the server says (Retry-After in seconds or
  as an HTTP date; X-RateLimit-Reset / RateLimit-Reset when the remaining quota is 0), else backs
  off, then retries.
- 500/502/503/504 and connection errors or timeouts: Retry-After if given, else exponential
  backoff with jitter, then retries.
- 401, and 403 without rate-limit signals: `ConnectorAuthError` naming the service and status.
- anything else: `ConnectorHttpError` at once.
Attempts are bounded (`max_attempts`) and so is any single wait (`max_sleep`). Tests inject `sleep`
and `clock` so nothing really waits: by convention a connector keeps its policy in
`self.retry_policy`, and tests set `retry_policy.sleep = sim.clock.sleep` and
`retry_policy.clock = sim.clock.time` (see tools/simulator).
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

_HTTP_RETRY_LOG = logging.getLogger("lakeflow.http_retry")

# A reset header above this is an epoch timestamp (GitHub); below it, seconds from now (IETF draft).
_RESET_EPOCH_THRESHOLD = 1_000_000_000


class ConnectorHttpError(Exception):
    """A request the connector could not complete. The message never contains credentials."""

    def __init__(self, service: str, message: str, *, status: int | None = None, url: str = ""):
        self.service = service
        self.status = status
        self.url = url
        super().__init__(f"{service}: {message}")


class ConnectorAuthError(ConnectorHttpError):
    """The service refused the credentials (401) or the permission (403)."""


@dataclass
class RetryPolicy:
    service: str = "api"
    max_attempts: int = 6  # including the first
    base_delay: float = 1.0  # first backoff, doubled each retry
    max_delay: float = 60.0  # cap on one backoff step
    max_sleep: float = 3600.0  # cap on one server-requested wait; longer waits raise instead
    jitter: float = 0.5  # the fraction of a backoff that is randomised
    reset_padding: float = 1.0  # added to epoch resets to absorb clock skew
    timeout: float = 60.0  # per request, seconds
    retry_statuses: frozenset[int] = frozenset({429, 500, 502, 503, 504})
    sleep: Callable[[float], Any] = time.sleep
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1-based): exponential, capped, jittered."""
        delay = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return delay * (1 - self.jitter) + delay * self.jitter * self.rng.random()


def http_safe_url(url: str) -> str:
    """The URL without query string or user info, fit for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After value: delta seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


def _http_header(response: requests.Response, *names: str) -> str | None:
    for name in names:
        value = response.headers.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def rate_limit_wait_seconds(response: requests.Response, now: float, padding: float = 0.0):
    """Seconds the server asks us to wait, or None when it does not say.

    Retry-After wins. Otherwise a reset header counts when the remaining quota is 0 (or the status
    is 429): X-RateLimit-Reset / RateLimit-Reset as epoch seconds (GitHub) or delta seconds.
    """
    retry_after = retry_after_seconds(_http_header(response, "Retry-After"), now)
    if retry_after is not None:
        return retry_after
    remaining = _http_header(response, "X-RateLimit-Remaining", "RateLimit-Remaining")
    if remaining != "0" and response.status_code != 429:
        return None
    reset = _http_header(response, "X-RateLimit-Reset", "RateLimit-Reset")
    if reset is None:
        return None
    try:
        value = float(reset)
    except ValueError:
        return None
    if value > _RESET_EPOCH_THRESHOLD:
        return max(0.0, value - now + padding)
    return max(0.0, value)


def _http_is_rate_limited(response: requests.Response) -> bool:
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    if _http_header(response, "Retry-After") is not None:
        return True
    if _http_header(response, "X-RateLimit-Remaining", "RateLimit-Remaining") == "0":
        return True
    # GitHub's secondary limit sometimes comes as a bare 403 whose message says so.
    return "rate limit" in response.text[:1000].lower()


def _http_error_message(response: requests.Response) -> str:
    """The service's own error message, short: JSON message/error fields or the text start."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        for key in ("message", "error_description", "error", "description", "detail"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return value[:300]
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return value["message"][:300]
    return " ".join(response.text.split())[:300]


def request_with_retry(
    session: requests.Session | None,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    **kwargs: Any,
) -> requests.Response:
    """Send one request, retrying as the module docstring describes; kwargs go to requests."""
    sender = session or requests
    kwargs.setdefault("timeout", policy.timeout)
    where = f"{method.upper()} {http_safe_url(url)}"
    attempt = 0
    while True:
        attempt += 1
        try:
            response = sender.request(method, url, **kwargs)
        except (requests.ConnectionError, requests.Timeout) as exc:
            if attempt >= policy.max_attempts:
                raise ConnectorHttpError(
                    policy.service,
                    f"{where} failed after {attempt} attempts: {type(exc).__name__}",
                    url=http_safe_url(url),
                ) from exc
            delay = policy.backoff(attempt)
            _HTTP_RETRY_LOG.warning(
                "%s: %s: %s; retry %d in %.1fs",
                policy.service,
                where,
                type(exc).__name__,
                attempt,
                delay,
            )
            policy.sleep(delay)
            continue

        status = response.status_code
        if status < 400:
            return response
        rate_limited = _http_is_rate_limited(response)
        if status in (401, 403) and not rate_limited:
            raise ConnectorAuthError(
                policy.service,
                f"{where} was refused with HTTP {status} ({_http_error_message(response)}); "
                "check the connection's credentials and their permissions",
                status=status,
                url=http_safe_url(url),
            )
        if not rate_limited and status not in policy.retry_statuses:
            raise ConnectorHttpError(
                policy.service,
                f"{where} failed with HTTP {status}: {_http_error_message(response)}",
                status=status,
                url=http_safe_url(url),
            )
        if attempt >= policy.max_attempts:
            raise ConnectorHttpError(
                policy.service,
                f"{where} still failed with HTTP {status} after {attempt} attempts: "
                f"{_http_error_message(response)}",
                status=status,
                url=http_safe_url(url),
            )
        # Retry-After also counts on 5xx (503 commonly carries it).
        wait = rate_limit_wait_seconds(response, policy.clock(), policy.reset_padding)
        if wait is None:
            wait = policy.backoff(attempt)
        elif wait > policy.max_sleep:
            raise ConnectorHttpError(
                policy.service,
                f"{where} is rate limited for {wait:.0f}s, longer than the allowed wait of "
                f"{policy.max_sleep:.0f}s",
                status=status,
                url=http_safe_url(url),
            )
        _HTTP_RETRY_LOG.warning(
            "%s: %s: HTTP %d; retry %d in %.1fs", policy.service, where, status, attempt, wait
        )
        response.close()
        policy.sleep(wait)
