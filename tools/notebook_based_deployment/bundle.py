"""Bundle YAML for the notebook pipelines: one pipeline per group, a scheduled job per group that
has a schedule, variables for the destination catalog and schema.

Pipelines use `catalog` and `schema`, never the deprecated `target`. Output is validated against
the bundle JSON schema shipped in schemas/ (generated from the databricks-bundles classes).
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tools.lakeflow.errors import LakeflowError
from tools.notebook_based_deployment.metadata_csv import TableRow, groups

SCHEMA_FILE = Path(__file__).parent / "schemas" / "bundle_config.schema.json"
DEFAULT_PIPELINE = {
    "serverless": True,
    "development": True,
    "continuous": False,
    "channel": "CURRENT",
}


def _dow_number(token: str) -> str:
    """cron day-of-week (0-7, Sunday 0 or 7) → Quartz (1-7, Sunday 1)."""
    return str(int(token) % 7 + 1) if token.isdigit() else token.upper()


def _convert_dow(field: str) -> str:
    parts = []
    for part in field.split(","):
        base, _, step = part.partition("/")
        if base == "*":
            base = "1" if step else "*"
        elif "-" in base:
            low, high = base.split("-", 1)
            base = f"{_dow_number(low)}-{_dow_number(high)}"
        else:
            base = _dow_number(base)
        parts.append(f"{base}/{step}" if step else base)
    return ",".join(parts)


def quartz_cron(cron: str) -> str:
    """A 5-field cron (`*/15 * * * *`) as the Quartz expression Databricks jobs take
    (`0 */15 * * * ?`): seconds first, and `?` in one of day-of-month and day-of-week."""
    fields = cron.split()
    if len(fields) != 5:
        raise LakeflowError(f"expected 5 cron fields, got {cron!r}", field="schedule")
    minute, hour, dom, month, dow = fields
    if dow in ("*", "?"):
        dom_q, dow_q = dom, "?"
    elif dom in ("*", "?"):
        dom_q, dow_q = "?", _convert_dow(dow)
    else:
        raise LakeflowError(
            f"{cron!r} restricts both day-of-month and day-of-week, which Quartz cannot express",
            field="schedule",
        )
    return f"0 {minute} {hour} {dom_q} {month.upper()} {dow_q}"


def group_schedule(group: str, rows: list[TableRow]) -> str | None:
    schedules = {r.schedule for r in rows if r.schedule}
    if len(schedules) > 1:
        raise LakeflowError(
            f"pipeline group {group!r} has different schedules: {', '.join(sorted(schedules))}",
            field=f"row {rows[0].row}, column schedule",
        )
    return schedules.pop() if schedules else None


def bundle_documents(
    connector: str,
    rows: list[TableRow],
    pipeline: dict | None = None,
    jobs: dict | None = None,
    notebooks_dir: str = "../notebooks",
    catalog: str = "main",
    schema: str | None = None,
) -> tuple[dict, dict]:
    """(resources document, databricks.yml document) as plain data."""
    settings = {**DEFAULT_PIPELINE, **(pipeline or {})}
    jobs = {"create": True, "pause": False, "timezone_id": "UTC", **(jobs or {})}
    pipelines, job_resources = {}, {}
    for group, group_rows in groups(rows).items():
        key = f"{connector}_{group}"
        pipelines[key] = {
            "name": key,
            "catalog": "${var.destination_catalog}",
            "schema": "${var.destination_schema}",
            "serverless": settings["serverless"],
            "development": settings["development"],
            "continuous": settings["continuous"],
            "channel": settings["channel"],
            "configuration": {
                **(settings.get("configuration") or {}),
                "source_name": connector,
                "pipeline_group": group,
            },
            "libraries": [{"notebook": {"path": f"{notebooks_dir}/{group}.py"}}],
        }
        schedule = group_schedule(group, group_rows)
        if schedule and jobs["create"] and not settings["continuous"]:
            job_resources[f"{key}_schedule"] = {
                "name": f"{key} schedule",
                "schedule": {
                    "quartz_cron_expression": quartz_cron(schedule),
                    "timezone_id": jobs["timezone_id"],
                    "pause_status": "PAUSED" if jobs["pause"] else "UNPAUSED",
                },
                "tasks": [
                    {
                        "task_key": "refresh_pipeline",
                        "pipeline_task": {"pipeline_id": f"${{resources.pipelines.{key}.id}}"},
                    }
                ],
            }
    resources = {"resources": {"pipelines": pipelines}}
    if job_resources:
        resources["resources"]["jobs"] = job_resources
    root = {
        "bundle": {"name": f"{connector}_notebook_pipelines"},
        "include": ["resources/*.yml"],
        "variables": {
            "destination_catalog": {
                "description": "Catalog of the ingested tables",
                "default": "main",
            },
            "destination_schema": {
                "description": "Schema of the ingested tables",
                "default": connector,
            },
        },
        "targets": {"dev": {"mode": "development", "default": True}},
    }
    return resources, root


def write_bundle(connector: str, rows: list[TableRow], output_dir: Path, **settings) -> list[Path]:
    """resources/<connector>_pipelines.yml, and databricks.yml when there is none yet."""
    resources, root = bundle_documents(connector, rows, **settings)
    written = []
    resource_file = output_dir / "resources" / f"{connector}_pipelines.yml"
    resource_file.parent.mkdir(parents=True, exist_ok=True)
    resource_file.write_text(yaml.safe_dump(resources, sort_keys=False))
    written.append(resource_file)
    root_file = output_dir / "databricks.yml"
    if not root_file.exists():
        root_file.write_text(yaml.safe_dump(root, sort_keys=False))
        written.append(root_file)
    return written


def bundle_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def validate_bundle_document(document: dict, source: str) -> None:
    import jsonschema

    errors = sorted(
        jsonschema.Draft202012Validator(bundle_schema()).iter_errors(document),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "<root>"
        raise LakeflowError(first.message, file=source, field=where)
