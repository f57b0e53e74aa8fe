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
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from tools.lakeflow import project
from tools.lakeflow.errors import LakeflowError
from tools.notebook_based_deployment.metadata_csv import TableRow, parse_rows, read_csv, write_csv
from tools.notebook_based_deployment.notebooks import ConnectorConfig

SCHEMA_FILE = Path(__file__).parent / "schemas" / "deploy_preset.schema.json"
# A stand-in value for secret options when discovery builds a connector: listing tables and
# reading metadata must not need credentials.
DISCOVERY_SECRET_PLACEHOLDER = "discovery-without-secrets"


@dataclass
class Preset:
    path: Path
    data: dict
    connector_config: ConnectorConfig

    @property
    def connector(self) -> str:
        return self.data["connector_name"]

    @property
    def generated_source(self) -> Path:
        return project.REPO_ROOT / self.data["generated_source_rel_path"]

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
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
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
    config = ConnectorConfig.parse(data["connector_config"], f"{rel}: connector_config")
    return Preset(path=path, data=data, connector_config=config)


def _connector_class(connector: str):
    module = importlib.import_module(f"sources.{connector}.{connector}")
    for value in vars(module).values():
        if (
            isinstance(value, type)
            and value.__module__ == module.__name__
            and hasattr(value, "list_tables")
        ):
            return value
    raise LakeflowError("no connector class", file=f"sources/{connector}/{connector}.py")


def discover_rows(preset: Preset) -> list[TableRow]:
    settings = preset.data["discover"]
    options = dict(preset.connector_config.static_options)
    options.update(
        {k: DISCOVERY_SECRET_PLACEHOLDER for k in preset.connector_config.secret_mappings}
    )
    connector = _connector_class(preset.connector)(options)
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
    # Through CSV and back: discovered rows obey exactly the rules a hand-written CSV does.
    return parse_rows(write_csv(rows), f"{preset.path.name} (discovered)")


def preset_rows(preset: Preset) -> list[TableRow]:
    csv_settings = preset.data["csv"]
    mode = csv_settings["mode"]
    if mode == "static":
        path = (preset.path.parent / csv_settings["path"]).resolve()
        rel = (
            path.relative_to(project.REPO_ROOT).as_posix()
            if path.is_relative_to(project.REPO_ROOT)
            else str(path)
        )
        return read_csv(path, rel)
    if mode == "discover":
        return discover_rows(preset)
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
