"""Unity Catalog's rule for object names, checked before any request.

Connection, catalog, schema and table names may not hold a period, a space, a forward slash, an
ASCII control character or DELETE, and are at most 255 characters (Databricks SQL reference,
"Names"). A bad name would otherwise fail half way through a deploy, or name another object.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from tools.lakeflow.errors import LakeflowError

if TYPE_CHECKING:
    from libs.spec_parser import PipelineSpec
    from tools.lakeflow.targets import Target

MAX_LENGTH = 255
FORBIDDEN = re.compile(r"[. /\x00-\x1f\x7f]")


def check(name: str, what: str, *, file: str | Path, field: str) -> None:
    """Raise naming `file` and `field` when `name` is not a valid Unity Catalog `what` name."""
    bad = FORBIDDEN.search(name)
    if bad:
        found = {".": "a period", " ": "a space", "/": "a slash"}.get(
            bad.group(), "a control character"
        )
        problem = f"{name!r} contains {found}"
    elif len(name) > MAX_LENGTH:
        problem = f"{name[:20]!r}... is {len(name)} characters long"
    elif not name:
        problem = "is empty"
    else:
        return
    raise LakeflowError(
        f"not a valid Unity Catalog {what} name: {problem}",
        file=file,
        field=field,
        hint=f"use at most {MAX_LENGTH} characters and no period, space, slash or control character",
    )


def check_pipeline_spec(
    spec: PipelineSpec, catalog: str, schema: str | None, *, file: str | Path
) -> None:
    """The names a pipeline_spec.yaml gives: its connection, destination and every table's."""
    check(spec.connection_name, "connection", file=file, field="connection_name")
    for kind, value in (("catalog", catalog), ("schema", schema)):
        if value is not None:
            check(value, kind, file=file, field=f"destination.{kind}")
    for index, table in enumerate(spec.objects):
        where = f"objects[{index}].table"
        for kind in ("catalog", "schema"):
            value = getattr(table, f"destination_{kind}")
            if value is not None:
                check(value, kind, file=file, field=f"{where}.destination_{kind}")
        if table.destination_table not in (None, table.source_table):
            check(table.destination_table, "table", file=file, field=f"{where}.destination_table")
        else:  # the destination is named after the source table
            check(table.source_table, "table", file=file, field=f"{where}.source_table")


def check_target(target: Target, *, file: str | Path) -> None:
    """A target's catalog, and its schema pattern with its placeholders filled."""
    check(target.catalog, "catalog", file=file, field=f"targets.{target.name}.catalog")
    schema = re.sub(r"\{\w+\}", "x", target.schema)
    check(schema, "schema", file=file, field=f"targets.{target.name}.schema")
