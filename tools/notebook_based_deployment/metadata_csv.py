"""The metadata CSV: one row per table, grouped into pipelines by `pipeline_group`.

Parsed with the csv module, so a quoted JSON column may hold commas. Read as people save it from a
spreadsheet: a UTF-8 BOM is fine, blank lines and rows of empty cells are skipped, and a file that
is not UTF-8 is an error naming the line. Every row is validated, and the rows against each other,
before anything is written; an error names the row as an editor numbers it and the column.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from libs.spec_parser import SCD_TYPES, SpecError, parse_primary_keys
from pipeline.ingestion_pipeline import table_configuration
from tools.lakeflow.errors import LakeflowError
from tools.notebook_based_deployment import schedule
from tools.notebook_based_deployment.secret_options import hint as secret_hint
from tools.notebook_based_deployment.secret_options import looks_secret

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
        return table_configuration(self)


def _error(source: str, row: int, column: str, message: str) -> LakeflowError:
    return LakeflowError(message, file=source, field=f"row {row}, column {column}")


def _records(text: str, source: str) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """(header row, header, [(row, values)]) with rows numbered as an editor shows them: the
    header and blank lines count, and a record spanning lines is numbered by its first line."""
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header_row, header, records = 0, None, []
    first_line = 1
    for values in reader:
        values = [v.strip() for v in values]
        if any(values):
            if header is None:
                header_row, header = first_line, values
            else:
                records.append((first_line, values))
        first_line = reader.line_num + 1
    if header is None:
        raise LakeflowError(
            f"empty file: expected a header row ({', '.join(COLUMNS)})", file=source
        )
    return header_row, header, records


def _check_header(source: str, row: int, header: list[str]) -> None:
    if not set(header) & set(COLUMNS):
        raise _error(
            source,
            row,
            header[0] or "1",
            f"no header row: the first row must name the columns "
            f"(at least {', '.join(REQUIRED_COLUMNS)})",
        )
    seen = set()
    for column in header:
        if column and column not in COLUMNS:
            raise _error(source, row, column, f"unknown column (known: {', '.join(COLUMNS)})")
        if column and column in seen:
            raise _error(source, row, column, "the header names this column twice")
        seen.add(column)
    for column in REQUIRED_COLUMNS:
        if column not in header:
            raise _error(source, row, column, "required column is missing")


def parse_rows(text: str, source: str = "<csv>") -> list[TableRow]:
    """Every row validated (and the rows checked against each other) before anything is used."""
    header_row, header, records = _records(text, source)
    _check_header(source, header_row, header)
    rows = []
    for number, values in records:
        extra = values[len(header) :]
        if any(extra):  # Excel pads rows with empty cells; only a value there is an error
            raise _error(source, number, "(extra)", "more values than columns; quote JSON values")
        named = {}
        for position, column in enumerate(header):
            value = values[position] if position < len(values) else ""
            if not column and value:
                raise _error(
                    source, number, f"#{position + 1}", "a value in a column without a header"
                )
            named[column] = value
        rows.append(_parse_row(source, number, named))
    if not rows:
        raise LakeflowError("no table rows", file=source)
    _check_rows(source, rows)
    return rows


def _check_rows(source: str, rows: list[TableRow]) -> None:
    in_group: dict[tuple, int] = {}
    destinations: dict[tuple, int] = {}
    schedules: dict[str, TableRow] = {}
    for row in rows:
        key = (row.pipeline_group, row.source_table)
        if key in in_group:
            raise _error(
                source, row.row, "source_table",
                f"{row.source_table!r} is already in pipeline group {row.pipeline_group!r} "
                f"(row {in_group[key]})",
            )  # fmt: skip
        in_group[key] = row.row
        destination = (
            row.destination_catalog,
            row.destination_schema,
            row.destination_table or row.source_table,
        )
        if destination in destinations:
            raise _error(
                source, row.row, "destination_table",
                f"same destination as row {destinations[destination]}",
            )  # fmt: skip
        destinations[destination] = row.row
        if row.schedule:
            first = schedules.setdefault(row.pipeline_group, row)
            if first.schedule != row.schedule:
                raise _error(
                    source, row.row, "schedule",
                    f"pipeline group {row.pipeline_group!r} is one pipeline with one schedule: "
                    f"row {first.row} says {first.schedule!r}, this row {row.schedule!r}",
                )  # fmt: skip


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
        try:
            schedule.validate(values["schedule"])
        except schedule.CronError as error:
            raise _error(source, number, "schedule", str(error)) from None
        row.schedule = " ".join(values["schedule"].split())
    if values.get("table_options_json"):
        row.table_options = _table_options(source, number, values["table_options_json"])
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


def _table_options(source: str, number: int, text: str) -> dict[str, str]:
    column = "table_options_json"
    try:
        options = json.loads(text)
    except ValueError as error:
        raise _error(source, number, column, f"not valid JSON: {error}") from None
    if not isinstance(options, dict):
        raise _error(
            source, number, column, f"expected a JSON object, got {type(options).__name__}"
        )
    for key, value in options.items():
        if not isinstance(value, str):
            raise _error(
                source, number, column,
                f"option {key!r}: expected a string value (quote it: \"{value}\"), got "
                f"{type(value).__name__}",
            )  # fmt: skip
        if looks_secret(key):
            raise _error(source, number, column, secret_hint(key))
    return options


def read_csv(path: Path, source: str | None = None) -> list[TableRow]:
    source = source or str(path)
    if not path.is_file():
        raise LakeflowError("file not found", file=source)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise LakeflowError(
            f"not UTF-8: byte 0x{data[error.start]:02x} cannot be decoded; save the file as "
            "'CSV UTF-8'",
            file=source,
            field=f"line {line}",
        ) from None
    return parse_rows(text, source)


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
