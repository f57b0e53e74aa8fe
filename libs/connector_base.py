"""What connectors share: required options, known tables, one session per process, pickling.

Spark pickles a connector to ship it to its worker processes. Sockets and cached access tokens
must not travel: `ProcessLocal.__getstate__` resets the attributes named in `process_local`, and
`session()` opens a new session on first use in each process. The merge inlines this module into
each connector's generated file, so its top-level names are specific and it keeps no global state.

    class AcmeLakeflowConnect(FixedTables, ProcessLocal, LakeflowConnect):
        service, schemas, metadata = "acme", ACME_SCHEMAS, ACME_METADATA
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

import copy
from typing import Any

import requests

from libs.utils import utc_from_iso


def require_options(service: str, options: dict[str, str], *names: str) -> None:
    """One ValueError naming every missing (or blank) connection option."""
    missing = [name for name in names if not (options.get(name) or "").strip()]
    if missing:
        raise ValueError(f"{service}: connection option(s) {', '.join(missing)} required")


def utc_text(service: str, option: str, value: str) -> str:
    """An ISO date or timestamp given for `option` as `YYYY-MM-DDTHH:MM:SSZ` (UTC), the form
    APIs' filters take; anything else is a ValueError naming the option."""
    try:
        return utc_from_iso(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise ValueError(
            f"{service}: {option} must be an ISO date or timestamp, got {value!r}"
        ) from None


def require_table(service: str, table_name: str, tables) -> None:
    """A ValueError naming the known tables when `table_name` is not one of them."""
    if table_name not in tables:
        raise ValueError(f"{service}: unknown table {table_name!r}; tables are {', '.join(tables)}")


class FixedTables:
    """Mixin for connectors whose tables are known up front: `schemas` maps each table to its
    StructType, `metadata` to its read_table_metadata answer. Reads call require_table."""

    service = "connector"
    schemas: dict[str, Any] = {}
    metadata: dict[str, dict] = {}

    def list_tables(self) -> list[str]:
        return list(self.schemas)

    def get_table_schema(self, table_name: str, table_options: dict[str, str]):
        require_table(self.service, table_name, self.schemas)
        return self.schemas[table_name]

    def read_table_metadata(self, table_name: str, table_options: dict[str, str]) -> dict:
        require_table(self.service, table_name, self.schemas)
        return copy.deepcopy(self.metadata[table_name])  # callers may change their copy


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
