"""Read and validate a source's connector_spec.yaml and pipeline_spec.yaml.

Everything is checked here, before any remote call: a bad spec fails with one error naming the
file and the field, and nothing is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from libs.runtime_names import DATA_SOURCE_OPTIONS
from libs.spec_parser import SpecError, allowed_check, parse_pipeline_spec
from tools.lakeflow import project, uc_names
from tools.lakeflow.errors import LakeflowError

PARAMETER_FIELDS = {"name", "type", "required", "description", "secret", "default"}
PIPELINE_SETTINGS = {
    "serverless": bool,
    "development": bool,
    "continuous": bool,
    "channel": str,
    "configuration": dict,
}
PIPELINE_SPEC_FIELDS = {"mode", "connection_name", "destination", "pipeline", "objects"}
# How a source is deployed (tools.lakeflow.managed); unset: the target's default, else files.
DEPLOY_MODES = ("files", "managed")


@dataclass
class Parameter:
    name: str
    type: str = "string"
    required: bool = False
    description: str = ""
    secret: bool = False
    default: str | None = None  # used when neither the environment nor dev_config.json sets it


@dataclass
class ConnectorSpec:
    parameters: list[Parameter]
    allowlist: list[str]

    @property
    def full_allowlist(self) -> list[str]:
        """What the connection's externalOptionsAllowList holds: spec + data source options."""
        return [*self.allowlist, *(o for o in DATA_SOURCE_OPTIONS if o not in self.allowlist)]


@dataclass
class PipelineSettings:
    connection_name: str
    catalog: str
    schema: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    scd_types: dict[str, str] = field(default_factory=dict)  # destination → scd_type
    mode: str | None = None  # files | managed; None: the target decides


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _load_yaml(path: Path, root: Path) -> dict[str, Any]:
    if not path.is_file():
        raise LakeflowError("file not found", file=_rel(path, root))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise LakeflowError(f"not valid YAML: {error}", file=_rel(path, root)) from None
    if not isinstance(data, dict):
        raise LakeflowError("expected a mapping at the top level", file=_rel(path, root))
    return data


def load_connector_spec(name: str, root: Path = project.REPO_ROOT) -> ConnectorSpec:
    path = project.source_dir(name, root) / "connector_spec.yaml"
    data = _load_yaml(path, root)
    where = _rel(path, root)
    params = (data.get("connection") or {}).get("parameters")
    if not isinstance(params, list):
        raise LakeflowError("expected a list", file=where, field="connection.parameters")
    parameters, seen = [], set()
    for index, raw in enumerate(params):
        at = f"connection.parameters[{index}]"
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise LakeflowError("each parameter needs a name", file=where, field=at)
        unknown = sorted(set(raw) - PARAMETER_FIELDS)
        if unknown:
            raise LakeflowError("unknown field", file=where, field=f"{at}.{unknown[0]}")
        if raw["name"] in seen:
            raise LakeflowError(f"duplicate parameter {raw['name']!r}", file=where, field=at)
        seen.add(raw["name"])
        for flag in ("required", "secret"):
            if not isinstance(raw.get(flag, False), bool):
                raise LakeflowError("expected true or false", file=where, field=f"{at}.{flag}")
        parameters.append(Parameter(**{k: v for k, v in raw.items() if k in PARAMETER_FIELDS}))
    allow = data.get("external_options_allowlist", "")
    if not isinstance(allow, str):
        raise LakeflowError(
            "expected a comma-separated string", file=where, field="external_options_allowlist"
        )
    return ConnectorSpec(parameters, [o.strip() for o in allow.split(",") if o.strip()])


def load_pipeline_spec(name: str, root: Path = project.REPO_ROOT) -> PipelineSettings:
    path = project.source_dir(name, root) / "pipeline_spec.yaml"
    data = _load_yaml(path, root)
    where = _rel(path, root)
    unknown = sorted(set(data) - PIPELINE_SPEC_FIELDS)
    if unknown:
        raise LakeflowError("unknown field", file=where, field=unknown[0])
    if data.get("mode") is not None and data["mode"] not in DEPLOY_MODES:
        raise LakeflowError(f"expected one of {', '.join(DEPLOY_MODES)}", file=where, field="mode")

    destination = data.get("destination") or {}
    if not isinstance(destination, dict):
        raise LakeflowError("expected a mapping", file=where, field="destination")
    catalog = destination.get("catalog", "main")
    schema = destination.get("schema")
    for key, value in (("catalog", catalog), ("schema", schema)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise LakeflowError(
                "expected a non-empty string", file=where, field=f"destination.{key}"
            )

    settings = data.get("pipeline") or {}
    if not isinstance(settings, dict):
        raise LakeflowError("expected a mapping", file=where, field="pipeline")
    for key, value in settings.items():
        if key not in PIPELINE_SETTINGS:
            raise LakeflowError("unknown pipeline setting", file=where, field=f"pipeline.{key}")
        if not isinstance(value, PIPELINE_SETTINGS[key]):
            expected = PIPELINE_SETTINGS[key].__name__
            raise LakeflowError(f"expected {expected}", file=where, field=f"pipeline.{key}")
    configuration = settings.get("configuration") or {}
    if not all(isinstance(v, str) for v in configuration.values()):
        raise LakeflowError("values must be strings", file=where, field="pipeline.configuration")

    raw_spec = {
        "connection_name": data.get("connection_name", f"{name}_connection"),
        "objects": data.get("objects"),
    }
    try:
        parsed = parse_pipeline_spec(raw_spec)
        allowed_check(parsed, set(load_connector_spec(name, root).allowlist))
    except SpecError as error:
        raise LakeflowError(
            str(error).split(": ", 1)[1], file=where, field=error.field_path
        ) from None
    uc_names.check_pipeline_spec(parsed, catalog, schema, file=where)
    scd_types = {
        t.destination_table or t.source_table: t.scd_type or "SCD_TYPE_1" for t in parsed.objects
    }
    return PipelineSettings(
        connection_name=parsed.connection_name,
        catalog=catalog,
        schema=schema,
        settings=settings,
        objects=raw_spec["objects"],
        scd_types=scd_types,
        mode=data.get("mode"),
    )
