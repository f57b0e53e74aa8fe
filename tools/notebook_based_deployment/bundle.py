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
from tools.notebook_based_deployment.schedule import quartz_cron

SCHEMA_FILE = Path(__file__).parent / "schemas" / "bundle_config.schema.json"
DEFAULT_PIPELINE = {
    "serverless": True,
    "development": True,
    "continuous": False,
    "channel": "CURRENT",
}


def group_schedule(rows: list[TableRow]) -> str | None:
    """The group's schedule (the CSV reader has checked that its rows agree)."""
    return next((r.schedule for r in rows if r.schedule), None)


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
        schedule = group_schedule(group_rows)
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
                "default": catalog,
            },
            "destination_schema": {
                "description": "Schema of the ingested tables",
                "default": schema or connector,
            },
        },
        "targets": {"dev": {"mode": "development", "default": True}},
    }
    return resources, root


def write_bundle(
    connector: str,
    rows: list[TableRow],
    output_dir: Path,
    replace_root: bool = False,
    **settings,
) -> list[Path]:
    """resources/<connector>_pipelines.yml, and databricks.yml when there is none yet (or when
    `replace_root`, for an output folder that is all generated). Both documents are validated
    before either is written: a bad bundle writes nothing."""
    resources, root = bundle_documents(connector, rows, **settings)
    validate_bundle(resources, root, f"{connector}_pipelines.yml")
    files = {output_dir / "resources" / f"{connector}_pipelines.yml": resources}
    root_file = output_dir / "databricks.yml"
    if replace_root or not root_file.exists():
        files[root_file] = root
    for path, document in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(document, sort_keys=False)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
    return list(files)


def bundle_schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text())


def validate_bundle(resources: dict, root: dict, resources_file: str) -> None:
    validate_bundle_document(resources, resources_file)
    validate_bundle_document(root, "databricks.yml")
    validate_with_models(resources, resources_file)


def validate_with_models(resources: dict, source: str) -> None:
    """Load every pipeline and job into the databricks-bundles classes (when installed: a dev
    dependency), which also check enum values the schema leaves open."""
    try:
        from databricks.bundles.jobs import Job
        from databricks.bundles.pipelines import Pipeline
    except ImportError:
        return
    for kind, model in (("pipelines", Pipeline), ("jobs", Job)):
        for key, document in resources["resources"].get(kind, {}).items():
            try:
                model.from_dict(document)
            except (ValueError, TypeError, KeyError) as error:
                raise LakeflowError(
                    str(error), file=source, field=f"resources.{kind}.{key}"
                ) from None


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
