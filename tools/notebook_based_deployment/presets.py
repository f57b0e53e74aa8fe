"""Deploy presets: `sources/<c>/deployment/deploy_preset.json`, validated by a shipped JSON Schema.

A preset says where the table list comes from (csv.mode):
- static: a checked-in CSV (csv.path, relative to the preset);
- discover: the connector's list_tables + read_table_metadata, grouped by ingestion_type,
  category, both or none, with a schedule per ingestion type;
- manual: a comma list of tables (csv.tables) in one group.
"""

from __future__ import annotations

import importlib
import json
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from libs import runtime_names
from tools.lakeflow import connection, project, specs
from tools.lakeflow.errors import LakeflowError
from tools.notebook_based_deployment import schedule
from tools.notebook_based_deployment.metadata_csv import TableRow, parse_rows, read_csv, write_csv
from tools.notebook_based_deployment.notebooks import ConnectorConfig
from tools.notebook_based_deployment.secret_options import secret_parameters

SCHEMA_FILE = Path(__file__).parent / "schemas" / "deploy_preset.schema.json"


@dataclass
class Preset:
    path: Path
    data: dict
    connector_config: ConnectorConfig
    root: Path = project.REPO_ROOT

    @property
    def connector(self) -> str:
        return self.data["connector_name"]

    @property
    def generated_source(self) -> Path:
        return self.root / self.data["generated_source_rel_path"]

    @property
    def pipeline(self) -> dict:
        return self.data.get("pipeline", {})

    @property
    def jobs(self) -> dict:
        return self.data.get("jobs", {})

    @property
    def catalog(self) -> str:
        return self.pipeline.get("catalog", "main")

    @property
    def schema(self) -> str:
        return self.pipeline.get("schema", self.connector)

    @property
    def volume(self) -> str:
        return self.data["storage"]["uc_volume_name"]

    @property
    def bundle_pipeline_settings(self) -> dict:
        return {k: v for k, v in self.pipeline.items() if k not in ("catalog", "schema")}


def preset_path(connector: str, root: Path = project.REPO_ROOT) -> Path:
    return project.source_dir(connector, root) / "deployment" / "deploy_preset.json"


def load_preset(path: Path, root: Path = project.REPO_ROOT) -> Preset:
    rel = _rel(path, root)
    if not path.is_file():
        raise LakeflowError("preset not found", file=rel)
    try:
        data = json.loads(path.read_text())
    except ValueError as error:
        raise LakeflowError(f"not valid JSON: {error}", file=rel) from None
    schema = json.loads(SCHEMA_FILE.read_text())
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(data),
        key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))),
    )
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "<root>"
        raise LakeflowError(first.message, file=rel, field=where)
    if data["connector_name"] not in project.source_names(root):
        raise LakeflowError(
            f"no connector {data['connector_name']!r}", file=rel, field="connector_name"
        )
    if not (root / data["generated_source_rel_path"]).is_file():
        raise LakeflowError("file not found", file=rel, field="generated_source_rel_path")
    if data["csv"]["mode"] == "discover" and "discover" not in data:
        raise LakeflowError("discover mode needs a discover section", file=rel, field="discover")
    config = ConnectorConfig.parse(
        data["connector_config"],
        f"{rel}: connector_config",
        secret_parameters(data["connector_name"], root),
    )
    _check_schedules(data, rel)
    return Preset(path=path, data=data, connector_config=config, root=root)


def _check_schedules(data: dict, rel: str) -> None:
    crons = {"csv.schedule": data["csv"].get("schedule")}
    for kind, cron in (data.get("discover", {}).get("schedules") or {}).items():
        crons[f"discover.schedules.{kind}"] = cron
    for where, cron in crons.items():
        if cron:
            try:
                schedule.validate(cron)
            except schedule.CronError as error:
                raise LakeflowError(str(error), file=rel, field=where) from None
    zone = data.get("jobs", {}).get("timezone_id")
    zones = zoneinfo.available_timezones()
    if zone and zones and zone not in zones | {"UTC"}:
        raise LakeflowError(
            f"unknown time zone {zone!r} (an IANA name such as Europe/Paris)",
            file=rel,
            field="jobs.timezone_id",
        )


def _connector_class(connector: str):
    module = importlib.import_module(f"sources.{connector}.{connector}")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and value.__module__ == module.__name__
            and runtime_names.is_connector_class(
                value.__name__, [b.__name__ for b in value.__mro__[1:]]
            )
        ):
            return value
    raise LakeflowError("no connector class", file=f"sources/{connector}/{connector}.py")


def discover_options(preset: Preset, root: Path = project.REPO_ROOT) -> dict[str, str]:
    """The options discovery builds the connector with. list_tables may call the source (OAuth
    connectors do), so the values come from where `doit deploy` takes connection values: the
    environment (LAKEFLOW_<SOURCE>_<OPTION>), then configs/dev_config.json, then the preset's
    static_options, then the spec's defaults. Missing required options are one error naming all."""
    spec = specs.load_connector_spec(preset.connector, root)
    static = preset.connector_config.static_options
    for parameter in spec.parameters:
        if parameter.name in static:
            parameter.default = static[parameter.name]
    required = [p.name for p in spec.parameters if p.required]
    for parameter in spec.parameters:
        parameter.required = False  # collected below, so one error names every missing option
    values, _ = connection.resolve_options(preset.connector, spec, root)
    missing = [name for name in required if name not in values]
    if missing:
        config = connection.config_file(preset.connector, root).relative_to(root).as_posix()
        variables = ", ".join(connection.env_name(preset.connector, m) for m in missing)
        raise LakeflowError(
            f"discover needs the connector's options {', '.join(missing)} to list its tables; "
            f"set them in {config} or the environment ({variables})",
            file=_rel(preset.path, root),
            field="csv.mode",
        )
    options = {p.name: values[p.name] for p in spec.parameters if p.name in values}
    return {**static, **options}


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def discover_rows(preset: Preset, root: Path = project.REPO_ROOT) -> list[TableRow]:
    settings = preset.data["discover"]
    options = discover_options(preset, root)
    connector_class = _connector_class(preset.connector)
    try:
        rows = _discovered(connector_class(options), settings)
    except Exception as error:  # noqa: BLE001 - the connector's own error, said in one line
        raise LakeflowError(
            f"discover: listing the tables failed: {type(error).__name__}: {error}",
            file=_rel(preset.path, root),
            field="csv.mode",
        ) from None
    _check_discovered_schedules(preset, rows, root)
    # Through CSV and back: discovered rows obey exactly the rules a hand-written CSV does.
    return parse_rows(write_csv(rows), f"{preset.path.name} (discovered)")


def _discovered(connector, settings: dict) -> list[TableRow]:
    group_by = settings.get("group_by", "ingestion_type")
    rows = []
    for number, table in enumerate(connector.list_tables(), start=2):
        table_options = settings.get("table_options", {}).get(table, {})
        metadata = connector.read_table_metadata(table, table_options)
        kind = metadata["ingestion_type"]
        category = (
            settings.get("categories", {}).get(table) or metadata.get("category") or "default"
        )
        group = {
            "ingestion_type": kind,
            "category": category,
            "category_and_ingestion_type": f"{category}_{kind}",
            "none": "all",
        }[group_by]
        rows.append(
            TableRow(
                row=number,
                source_table=table,
                pipeline_group=group,
                schedule=settings.get("schedules", {}).get(kind),
                table_options=table_options,
                ingestion_type=kind,
                primary_keys=metadata.get("primary_keys") or None,
                cursor_field=metadata.get("cursor_field"),
                category=category,
            )
        )
    return rows


def _check_discovered_schedules(preset: Preset, rows: list[TableRow], root: Path) -> None:
    """A group is one pipeline with one job: its tables' schedules (per ingestion type) must
    agree, which grouping by category or none does not promise."""
    by_group: dict[str, dict[str | None, list[str]]] = {}
    for row in rows:
        by_group.setdefault(row.pipeline_group, {}).setdefault(row.schedule, []).append(
            f"{row.source_table} ({row.ingestion_type})"
        )
    for group, schedules in sorted(by_group.items()):
        if len(schedules) > 1:
            detail = "; ".join(
                f"{cron or 'no schedule'}: {', '.join(tables)}"
                for cron, tables in sorted(schedules.items(), key=lambda kv: str(kv[0]))
            )
            raise LakeflowError(
                f"pipeline group {group!r} would get tables with different schedules ({detail}); "
                "group by ingestion_type or give these ingestion types one schedule",
                file=_rel(preset.path, root),
                field="discover.group_by",
            )


def preset_rows(preset: Preset, root: Path = project.REPO_ROOT) -> list[TableRow]:
    csv_settings = preset.data["csv"]
    mode = csv_settings["mode"]
    if mode == "static":
        path = (preset.path.parent / csv_settings["path"]).resolve()
        return read_csv(path, _rel(path, root))
    if mode == "discover":
        return discover_rows(preset, root)
    tables = [t.strip() for t in csv_settings["tables"].split(",") if t.strip()]
    rows = [
        TableRow(
            row=index,
            source_table=table,
            pipeline_group=csv_settings.get("pipeline_group", "main"),
            schedule=csv_settings.get("schedule") or None,
        )
        for index, table in enumerate(tables, start=2)
    ]
    return parse_rows(write_csv(rows), f"{preset.path.name} (manual)")
