"""A clock the tests control, so "updated since" and rate-limit windows are deterministic."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone


def parse_time(value: datetime | str) -> datetime:
    """An aware UTC datetime from a datetime or an ISO-8601 string (a trailing Z is accepted)."""
    if isinstance(value, datetime):
        dt = value
    else:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


class SimClock:
    """Simulated UTC time. It only moves when a test (or an injected sleep) moves it.

    `step` is how far `tick()` moves it: every record mutation ticks, so two changes never share a
    timestamp unless a test asks for it.
    """

    def __init__(self, start: datetime | str = "2024-01-01T00:00:00Z", *, step: float = 1.0):
        self._now = parse_time(start)
        self.step = step
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        # Connectors holding an injected clock are pickled in tests as Spark would ship them: the
        # copy starts at the same simulated time with a lock of its own.
        return {k: v for k, v in self.__dict__.items() if k != "_lock"}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def time(self) -> float:
        """Epoch seconds, the shape `time.time` has (inject it as a retry helper's clock)."""
        return self.now().timestamp()

    def set(self, when: datetime | str) -> datetime:
        with self._lock:
            self._now = parse_time(when)
            return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        """Move forward by `seconds` plus any timedelta keywords (minutes=..., days=...)."""
        step = timedelta(seconds=seconds, **delta)
        if step < timedelta(0):
            raise ValueError("the simulated clock never goes backwards")
        with self._lock:
            self._now += step
            return self._now

    def sleep(self, seconds: float) -> None:
        """Drop-in for `time.sleep`: waiting just moves simulated time."""
        self.advance(max(0.0, seconds))

    def tick(self) -> datetime:
        return self.advance(self.step)
