"""Access tokens for simulators of OAuth APIs (client credentials, refresh tokens).

Tokens expire on the simulator's clock, so a test proves a connector refreshes an expired token by
advancing the clock, not by waiting.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from tools.simulator.clock import SimClock


class TokenIssuer:
    def __init__(self, clock: SimClock, *, ttl: int = 3600, prefix: str = "sim-access"):
        self.clock = clock
        self.ttl = ttl
        self.prefix = prefix
        self.issued = 0  # how many tokens were handed out (tests assert on caching)
        self._expiry: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def issue(self, **extra) -> dict:
        """A token response body: access_token, token_type, expires_in plus any extra fields."""
        with self._lock:
            self.issued += 1
            token = f"{self.prefix}-{self.issued:06d}"
            self._expiry[token] = self.clock.now() + timedelta(seconds=self.ttl)
        return {"access_token": token, "token_type": "Bearer", "expires_in": self.ttl, **extra}

    def is_valid(self, token: str | None) -> bool:
        with self._lock:
            expiry = self._expiry.get(token or "")
        return expiry is not None and self.clock.now() < expiry

    def expire_all(self) -> None:
        """Make every token issued so far invalid (the next request must refresh)."""
        with self._lock:
            self._expiry.clear()
