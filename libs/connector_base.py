"""What every HTTP connector shares: required options, one session per process, safe pickling.

Spark pickles a connector to ship it to its worker processes. Sockets and cached access tokens
must not travel: `ProcessLocal.__getstate__` resets the attributes named in `process_local`, and
`session()` opens a new session on first use in each process. The merge inlines this module into
each connector's generated file, so its top-level names are specific and it keeps no global state.

    class AcmeLakeflowConnect(ProcessLocal, LakeflowConnect):
        process_local = {"_session": None, "_token": None}

        def __init__(self, options):
            super().__init__(options)
            require_options("acme", options, "api_key", "base_url")

        def new_session(self):
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.options['api_key']}"
            return session
"""

from __future__ import annotations

from typing import Any

import requests


def require_options(service: str, options: dict[str, str], *names: str) -> None:
    """One ValueError naming every missing (or blank) connection option."""
    missing = [name for name in names if not (options.get(name) or "").strip()]
    if missing:
        raise ValueError(f"{service}: connection option(s) {', '.join(missing)} required")


class ProcessLocal:
    """Mixin for state that belongs to one process: reset on pickling, rebuilt on use."""

    # attribute → the value a freshly unpickled connector starts with
    process_local: dict[str, Any] = {"_session": None}

    def __getstate__(self) -> dict:
        return {**self.__dict__, **self.process_local}

    def session(self) -> requests.Session:
        if getattr(self, "_session", None) is None:
            self._session = self.new_session()
        return self._session

    def new_session(self) -> requests.Session:
        """The process's session; override to add auth or headers."""
        return requests.Session()
