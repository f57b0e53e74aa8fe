"""The shared retry helper against a real local HTTP server (tools.simulator); sleeps are injected."""

from __future__ import annotations

import random
import socket
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
import requests

from libs.http_retry import (
    ConnectorAuthError,
    ConnectorHttpError,
    RetryPolicy,
    http_safe_url,
    rate_limit_wait_seconds,
    request_with_retry,
    retry_after_seconds,
)
from tools.simulator import Response, SimClock, Simulator, route

NOW = 1_700_000_000.0


class EchoSimulator(Simulator):
    service_name = "echo"

    def check_auth(self, request):
        if request.bearer_token() == "good":
            return None
        return Response.json({"message": "Bad credentials"}, status=401)

    @route("GET", "/thing")
    def thing(self, request):
        return {"ok": True}


@pytest.fixture
def sim():
    with EchoSimulator() as running:
        yield running


@pytest.fixture
def session():
    with requests.Session() as s:
        s.headers["Authorization"] = "Bearer good"
        yield s


def make_policy(sleeps: list, **overrides) -> RetryPolicy:
    base = {
        "service": "echo",
        "sleep": sleeps.append,
        "clock": lambda: NOW,
        "rng": random.Random(7),
        "timeout": 5,
    }
    return RetryPolicy(**{**base, **overrides})


def get(sim, session, policy, path="/thing"):
    return request_with_retry(session, "GET", f"{sim.url}{path}", policy=policy)


def test_429_retry_after_seconds_is_honoured(sim, session):
    sim.fail_next(status=429, retry_after=3, times=2)
    sleeps = []
    response = get(sim, session, make_policy(sleeps))
    assert response.json() == {"ok": True}
    assert sleeps == [3.0, 3.0]
    assert [r.status for r in sim.log] == [429, 429, 200]


def test_retry_after_http_date_uses_the_clock(sim, session):
    when = datetime.fromtimestamp(NOW + 42, tz=timezone.utc)
    sim.fail_next(status=429, retry_after=format_datetime(when, usegmt=True))
    sleeps = []
    get(sim, session, make_policy(sleeps))
    assert sleeps == [42.0]


def test_github_primary_rate_limit_waits_until_reset(sim, session):
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 30)}
    sim.fail_next(status=403, headers=headers, body={"message": "API rate limit exceeded"})
    sleeps = []
    assert get(sim, session, make_policy(sleeps, reset_padding=1.0)).ok
    assert sleeps == [31.0]


def test_primary_rate_limit_against_a_simulated_clock(sim, session):
    # The policy sleeps on the simulator's clock, so waiting moves simulated time to the reset.
    clock = SimClock("2024-05-01T00:00:00Z")
    reset = int(clock.time()) + 120
    sim.fail_next(
        status=403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)}
    )
    policy = make_policy([], sleep=clock.sleep, clock=clock.time, reset_padding=0)
    assert get(sim, session, policy).ok
    assert clock.time() == reset


def test_generic_ratelimit_reset_delta_seconds(sim, session):
    sim.fail_next(status=429, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": "7"})
    sleeps = []
    get(sim, session, make_policy(sleeps))
    assert sleeps == [7.0]


def test_secondary_rate_limit_403_with_retry_after(sim, session):
    sim.fail_next(status=403, retry_after=60, body={"message": "secondary rate limit"})
    sleeps = []
    assert get(sim, session, make_policy(sleeps)).ok
    assert sleeps == [60.0]


def test_403_mentioning_rate_limit_backs_off(sim, session):
    sim.fail_next(status=403, body={"message": "You have exceeded a secondary rate limit."})
    sleeps = []
    assert get(sim, session, make_policy(sleeps, base_delay=2, jitter=0)).ok
    assert sleeps == [2.0]


def test_5xx_backoff_is_exponential_capped_and_jittered(sim, session):
    sim.fail_next(status=503, times=3)
    sim.fail_next(status=502, times=2)
    sleeps = []
    policy = make_policy(sleeps, base_delay=1, max_delay=4, jitter=0.5)
    assert get(sim, session, policy).ok
    caps = [1, 2, 4, 4, 4]
    assert len(sleeps) == 5
    for slept, cap in zip(sleeps, caps, strict=True):
        assert cap * 0.5 <= slept <= cap
    assert len(set(sleeps)) > 1


def test_attempts_are_bounded(sim, session):
    sim.fail_next(status=500, times=10)
    sleeps = []
    with pytest.raises(ConnectorHttpError) as info:
        get(sim, session, make_policy(sleeps, max_attempts=3))
    assert info.value.status == 500
    assert "after 3 attempts" in str(info.value)
    assert len(sleeps) == 2
    assert len(sim.log) == 3


def test_wait_longer_than_max_sleep_raises(sim, session):
    sim.fail_next(status=429, retry_after=5000)
    sleeps = []
    with pytest.raises(ConnectorHttpError, match="longer than the allowed wait"):
        get(sim, session, make_policy(sleeps, max_sleep=600))
    assert sleeps == []


def test_bad_credential_is_a_clear_auth_error_without_retry(sim):
    sleeps = []
    with requests.Session() as bad:
        bad.headers["Authorization"] = "Bearer wrong"
        with pytest.raises(ConnectorAuthError) as info:
            request_with_retry(
                bad, "GET", f"{sim.url}/thing?api_key=hunter2", policy=make_policy(sleeps)
            )
    message = str(info.value)
    assert message.startswith("echo: ")
    assert "HTTP 401" in message and "Bad credentials" in message
    assert "hunter2" not in message and "wrong" not in message
    assert info.value.status == 401
    assert sleeps == [] and len(sim.log) == 1


def test_403_without_rate_limit_signals_is_an_auth_error(sim, session):
    sim.fail_next(status=403, body={"message": "Resource not accessible by integration"})
    with pytest.raises(ConnectorAuthError, match="HTTP 403"):
        get(sim, session, make_policy([]))


def test_other_client_errors_fail_at_once(sim, session):
    sleeps = []
    with pytest.raises(ConnectorHttpError) as info:
        get(sim, session, make_policy(sleeps), path="/missing")
    assert info.value.status == 404 and not isinstance(info.value, ConnectorAuthError)
    assert sleeps == []


def test_connection_errors_are_retried_then_reported():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = []
    with pytest.raises(ConnectorHttpError, match="failed after 3 attempts: ConnectionError"):
        request_with_retry(
            None, "GET", f"http://127.0.0.1:{port}/x", policy=make_policy(sleeps, max_attempts=3)
        )
    assert len(sleeps) == 2


def _response(status: int, headers: dict[str, str]) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers)
    response._content = b""
    return response


def test_header_parsing_rules():
    assert retry_after_seconds("12", NOW) == 12.0
    assert retry_after_seconds("-3", NOW) == 0.0
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None
    # A reset header alone does not mean "wait" while quota remains.
    assert rate_limit_wait_seconds(_response(403, {"X-RateLimit-Reset": str(NOW + 9)}), NOW) is None
    assert rate_limit_wait_seconds(_response(429, {"X-RateLimit-Reset": str(NOW + 9)}), NOW) == 9
    assert (
        rate_limit_wait_seconds(_response(429, {"Retry-After": "4", "RateLimit-Reset": "9"}), NOW)
        == 4
    )
    past = _response(403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(NOW - 100)})
    assert rate_limit_wait_seconds(past, NOW) == 0.0


def test_safe_url_drops_query_and_user_info():
    assert (
        http_safe_url("https://u:p@api.example.com:8443/a/b?token=x#f")
        == "https://api.example.com:8443/a/b"
    )
