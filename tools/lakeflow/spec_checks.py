"""pipeline_spec.yaml checked against the connector itself, offline, before any remote write.

The spec loader (specs.py) checks the spec's shape; this asks the connector: every `source_table`
must be a table it lists, and `primary_keys` / `sequence_by` must be columns of that table's
schema. Only what the connector answers without the network is checked: while it runs, opening a
socket from this thread fails, and a connector that needs its API to list tables (or to build a
schema) is simply not checked there. A connector without pyspark installed is not checked either.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import socket
import threading
from pathlib import Path

from libs import runtime_names
from libs.spec_parser import parse_pipeline_spec
from tools.lakeflow import project
from tools.lakeflow.errors import LakeflowError


class NetworkBlocked(OSError):
    """Raised by socket calls made by the checking thread: the connector needed the network."""


@contextlib.contextmanager
def no_network():
    """Socket connects and name lookups fail in this thread (other threads are untouched: the
    embedded workspace may be serving from this process)."""
    owner = threading.get_ident()
    originals = {
        "connect": socket.socket.connect,
        "connect_ex": socket.socket.connect_ex,
        "getaddrinfo": socket.getaddrinfo,
    }

    def guard(original):
        def guarded(*args, **kwargs):
            if threading.get_ident() == owner:
                raise NetworkBlocked("network use during an offline check")
            return original(*args, **kwargs)

        return guarded

    socket.socket.connect = guard(originals["connect"])
    socket.socket.connect_ex = guard(originals["connect_ex"])
    socket.getaddrinfo = guard(originals["getaddrinfo"])
    try:
        yield
    finally:
        socket.socket.connect = originals["connect"]
        socket.socket.connect_ex = originals["connect_ex"]
        socket.getaddrinfo = originals["getaddrinfo"]


def connector_class(name: str, root: Path):
    """The class in sources/<name>/<name>.py deriving from LakeflowConnect; None if the module
    cannot be imported here (e.g. pyspark is not installed)."""
    module_name = f"sources.{name}.{name}"
    if not (project.source_dir(name, root) / f"{name}.py").is_file():
        return None
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    if not Path(module.__file__).resolve().is_relative_to(root.resolve()):
        return None  # another checkout's connector is on sys.path: not the one deployed
    found = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module_name
        and runtime_names.is_connector_class(cls.__name__, [b.__name__ for b in cls.__mro__[1:]])
    ]
    return found[0] if len(found) == 1 else None


def _offline(call, *args):
    """call(*args) without the network; None when it cannot answer offline (or fails at all:
    the connector's own tests report its bugs, this check only vets the spec)."""
    try:
        with no_network():
            return call(*args)
    except Exception:  # noqa: BLE001 - any failure means "not answerable offline"
        return None


def check_against_connector(
    name: str, objects: list, options: dict[str, str], root: Path = project.REPO_ROOT
) -> list[str]:
    """Raise LakeflowError for the first spec entry the connector contradicts; return the names
    of the checks made (for tests and for `plan` to say what was verified)."""
    cls = connector_class(name, root)
    if cls is None:
        return []
    where = f"sources/{name}/pipeline_spec.yaml"
    # The spec loader validated these objects already; parsing again gives the typed tables.
    parsed = parse_pipeline_spec({"connection_name": name, "objects": objects})
    connector = _offline(cls, dict(options))
    tables = _offline(connector.list_tables) if connector is not None else None
    checked = []
    if tables is not None:
        listed = set(tables)
        checked.append("source_table")
        for index, table in enumerate(parsed.objects):
            if table.source_table not in listed:
                raise LakeflowError(
                    f"{table.source_table!r} is not a table the {name} connector lists "
                    f"({', '.join(sorted(listed)) or 'none'})",
                    file=where,
                    field=f"objects[{index}].table.source_table",
                )
    for index, table in enumerate(parsed.objects):
        wanted = {"primary_keys": table.primary_keys or [], "sequence_by": [table.sequence_by]}
        wanted = {key: [c for c in cols if c] for key, cols in wanted.items()}
        if connector is None or not any(wanted.values()):
            continue
        schema = _offline(connector.get_table_schema, table.source_table, table.table_options)
        columns = getattr(schema, "names", None)
        if columns is None:
            continue
        checked.append(f"columns of {table.source_table}")
        for key, cols in wanted.items():
            for column in cols:
                if column.split(".")[0] not in columns:
                    raise LakeflowError(
                        f"{column!r} is not a column of {table.source_table} "
                        f"({', '.join(columns)})",
                        file=where,
                        field=f"objects[{index}].table.table_configuration.{key}",
                    )
    return checked
