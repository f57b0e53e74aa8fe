"""The metadata CSV: one row per table, grouped into pipelines by `pipeline_group`.

Parsed with the csv module, so a quoted JSON column may hold commas. Every row is validated and an
error names the row number (the header is row 1) and the column.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from libs.spec_parser import SCD_TYPES, SpecError, parse_primary_keys
from tools.lakeflow.errors import LakeflowError

REQUIRED_COLUMNS = ("source_table", "pipeline_group")
OPTIONAL_COLUMNS = (
    "destination_table",
    "destination_catalog",
    "destination_schema",
    "schedule",
    "table_options_json",
    "weight",
    "scd_type",
    "primary_keys",
    "sequence_by",
    # written by the preset's discover mode
    "ingestion_type",
    "cursor_field",
    "category",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
GROUP_NAME = re.compile(r"^[A-Za-z0-9_]+$")
CRON_FIELD = re.compile(r"^[0-9*/,\-A-Za-z?]+$")


@dataclass
class TableRow:
    row: int
    source_table: str
    pipeline_group: str
    destination_table: str | None = None
    destination_catalog: str | None = None
    destination_schema: str | None = None
    schedule: str | None = None
    table_options: dict[str, str] = field(default_factory=dict)
    weight: int = 0
    scd_type: str | None = None
    primary_keys: list[str] | None = None
    sequence_by: str | None = None
    ingestion_type: str | None = None
    cursor_field: str | None = None
    category: str | None = None

    def table_configuration(self) -> dict[str, str]:
        """The pipeline spec's table_configuration: the CSV's overrides plus table options."""
        config = dict(self.table_options)
        if self.scd_type:
            config["scd_type"] = self.scd_type
        if self.primary_keys:
            config["primary_keys"] = json.dumps(self.primary_keys)
        if self.sequence_by:
            config["sequence_by"] = self.sequence_by
        return config


def _error(source: str, row: int, column: str, message: str) -> LakeflowError:
    return LakeflowError(message, file=source, field=f"row {row}, column {column}")


def parse_rows(text: str, source: str = "<csv>") -> list[TableRow]:
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    for column in header:
        if column not in COLUMNS:
            raise _error(source, 1, column, f"unknown column (known: {', '.join(COLUMNS)})")
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise _error(source, 1, column, "required column is missing")
    rows = []
    for number, raw in enumerate(reader, start=2):
        if None in raw:
            raise _error(source, number, "(extra)", "more values than columns; quote JSON values")
        values = {k.strip(): (v or "").strip() for k, v in raw.items()}
        rows.append(_parse_row(source, number, values))
    if not rows:
        raise LakeflowError("no table rows", file=source)
    seen: dict[tuple, int] = {}
    for row in rows:
        key = (
            row.destination_catalog,
            row.destination_schema,
            row.destination_table or row.source_table,
        )
        if key in seen:
            raise _error(
                source, row.row, "destination_table", f"same destination as row {seen[key]}"
            )
        seen[key] = row.row
    return rows


def _parse_row(source: str, number: int, values: dict[str, str]) -> TableRow:
    for column in REQUIRED_COLUMNS:
        if not values.get(column):
            raise _error(source, number, column, "a value is required")
    if not GROUP_NAME.match(values["pipeline_group"]):
        raise _error(source, number, "pipeline_group", "letters, digits and _ only")
    row = TableRow(
        row=number, source_table=values["source_table"], pipeline_group=values["pipeline_group"]
    )
    for column in ("destination_table", "destination_catalog", "destination_schema",
                   "sequence_by", "ingestion_type", "cursor_field", "category"):  # fmt: skip
        setattr(row, column, values.get(column) or None)
    if values.get("schedule"):
        parts = values["schedule"].split()
        if len(parts) != 5 or not all(CRON_FIELD.match(p) for p in parts):
            raise _error(
                source, number, "schedule", f"expected a 5-field cron, got {values['schedule']!r}"
            )
        row.schedule = values["schedule"]
    if values.get("table_options_json"):
        try:
            options = json.loads(values["table_options_json"])
        except ValueError as error:
            raise _error(source, number, "table_options_json", f"not valid JSON: {error}") from None
        if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
            raise _error(source, number, "table_options_json", "expected a JSON object of strings")
        row.table_options = options
    if values.get("weight"):
        try:
            row.weight = int(values["weight"])
        except ValueError:
            raise _error(
                source, number, "weight", f"expected an integer, got {values['weight']!r}"
            ) from None
    if values.get("scd_type"):
        if values["scd_type"] not in SCD_TYPES:
            raise _error(source, number, "scd_type", f"expected one of {', '.join(SCD_TYPES)}")
        row.scd_type = values["scd_type"]
    if values.get("primary_keys"):
        text = values["primary_keys"]
        if not text.startswith("["):  # a plain comma list is accepted too
            text = json.dumps([k.strip() for k in text.split(",") if k.strip()])
        try:
            row.primary_keys = parse_primary_keys(text, "primary_keys")
        except SpecError as error:
            raise _error(source, number, "primary_keys", str(error).split(": ", 1)[1]) from None
    return row


def read_csv(path: Path, source: str | None = None) -> list[TableRow]:
    if not path.is_file():
        raise LakeflowError("file not found", file=source or str(path))
    return parse_rows(path.read_text(encoding="utf-8"), source or str(path))


def write_csv(rows: list[TableRow]) -> str:
    """Rows back to CSV (discover and manual modes write one), JSON columns quoted."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        record = {c: getattr(row, c, None) or "" for c in COLUMNS}
        record["table_options_json"] = json.dumps(row.table_options) if row.table_options else ""
        record["primary_keys"] = json.dumps(row.primary_keys) if row.primary_keys else ""
        record["weight"] = str(row.weight) if row.weight else ""
        writer.writerow(record)
    return out.getvalue()


def groups(rows: list[TableRow]) -> dict[str, list[TableRow]]:
    """Rows per pipeline group, ordered by weight (higher first), then CSV order."""
    grouped: dict[str, list[TableRow]] = {}
    for row in sorted(rows, key=lambda r: (-r.weight, r.row)):
        grouped.setdefault(row.pipeline_group, []).append(row)
    return dict(sorted(grouped.items()))
