"""Validate a pipeline spec: `{connection_name, objects: [{table: {...}}]}`.

Every error names the object index and the field (`objects[2].table.table_configuration.scd_type`)
so a bad spec is fixed in one look. table_configuration's special keys (scd_type, primary_keys,
sequence_by) are parsed; every other key is a table option for the connector.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

SCD_TYPES = ("SCD_TYPE_1", "SCD_TYPE_2", "APPEND_ONLY")
SPECIAL_TABLE_KEYS = ("scd_type", "primary_keys", "sequence_by")
DESTINATION_FIELDS = ("destination_catalog", "destination_schema", "destination_table")


class SpecError(ValueError):
    def __init__(self, field_path: str, message: str):
        self.field_path = field_path
        super().__init__(f"{field_path}: {message}")


@dataclass
class TableSpec:
    source_table: str
    destination_catalog: str | None = None
    destination_schema: str | None = None
    destination_table: str | None = None
    scd_type: str | None = None
    primary_keys: list[str] | None = None
    sequence_by: str | None = None
    table_options: dict[str, str] = field(default_factory=dict)

    @property
    def qualified_destination(self) -> str:
        parts = [self.destination_catalog, self.destination_schema, self.destination_table]
        return ".".join(p for p in parts if p)


@dataclass
class PipelineSpec:
    connection_name: str
    objects: list[TableSpec]


def _string(value, where: str, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise SpecError(where, f"expected a non-empty string, got {value!r}")
    return value


def parse_primary_keys(value, where: str) -> list[str]:
    """A JSON array string of non-empty strings (an actual list is accepted too)."""
    keys = value
    if isinstance(value, str):
        try:
            keys = json.loads(value)
        except ValueError:
            raise SpecError(where, f"expected a JSON array of strings, got {value!r}") from None
    if (
        not isinstance(keys, list)
        or not keys
        or not all(isinstance(k, str) and k.strip() for k in keys)
    ):
        raise SpecError(where, f"expected a JSON array of strings, got {value!r}")
    return list(keys)


def _parse_table(index: int, entry) -> TableSpec:
    where = f"objects[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("table"), dict):
        raise SpecError(f"{where}.table", "expected an object with a `table` mapping")
    table = entry["table"]
    where = f"{where}.table"
    known = {"source_table", "table_configuration", *DESTINATION_FIELDS}
    unknown = sorted(set(table) - known)
    if unknown:
        raise SpecError(f"{where}.{unknown[0]}", "unknown field")
    spec = TableSpec(source_table=_string(table.get("source_table"), f"{where}.source_table", True))
    for name in DESTINATION_FIELDS:
        setattr(spec, name, _string(table.get(name), f"{where}.{name}"))
    spec.destination_table = spec.destination_table or spec.source_table

    config = table.get("table_configuration") or {}
    config_where = f"{where}.table_configuration"
    if not isinstance(config, dict):
        raise SpecError(config_where, f"expected a mapping, got {config!r}")
    for key, value in config.items():
        if not isinstance(value, (str, list)) or (
            isinstance(value, list) and key != "primary_keys"
        ):
            raise SpecError(f"{config_where}.{key}", f"expected a string value, got {value!r}")
    if "scd_type" in config:
        scd = config["scd_type"]
        if scd not in SCD_TYPES:
            raise SpecError(f"{config_where}.scd_type", f"expected one of {SCD_TYPES}, got {scd!r}")
        spec.scd_type = scd
    if "primary_keys" in config:
        spec.primary_keys = parse_primary_keys(
            config["primary_keys"], f"{config_where}.primary_keys"
        )
    if "sequence_by" in config:
        spec.sequence_by = _string(config["sequence_by"], f"{config_where}.sequence_by", True)
    spec.table_options = {k: v for k, v in config.items() if k not in SPECIAL_TABLE_KEYS}
    return spec


def parse_pipeline_spec(spec) -> PipelineSpec:
    if not isinstance(spec, dict):
        raise SpecError("<spec>", f"expected a mapping, got {type(spec).__name__}")
    connection_name = _string(spec.get("connection_name"), "connection_name", required=True)
    objects = spec.get("objects")
    if not isinstance(objects, list) or not objects:
        raise SpecError("objects", "expected a non-empty list of tables")
    tables = [_parse_table(index, entry) for index, entry in enumerate(objects)]
    seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        key = table.qualified_destination
        if key in seen:
            raise SpecError(
                f"objects[{index}].table.destination_table",
                f"{key!r} is already the destination of objects[{seen[key]}]",
            )
        seen[key] = index
    return PipelineSpec(connection_name=connection_name, objects=tables)


def allowed_check(spec: PipelineSpec, allowlist: set[str]) -> None:
    """Every table option must be in the connection's externalOptionsAllowList."""
    for index, table in enumerate(spec.objects):
        for key in table.table_options:
            if key not in allowlist:
                raise SpecError(
                    f"objects[{index}].table.table_configuration.{key}",
                    "not in the connector's external_options_allowlist "
                    f"({', '.join(sorted(allowlist)) or 'empty'})",
                )
