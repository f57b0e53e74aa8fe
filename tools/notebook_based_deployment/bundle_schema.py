"""Generate the bundle JSON schema from the databricks-bundles Python classes.

    python tools/notebook_based_deployment/bundle_schema.py   # rewrites schemas/bundle_config.schema.json

No PyPI package ships the bundle JSON schema file, but databricks-bundles models every resource
field as typed dataclasses; this walks them (Pipeline and Job, and all they reference) into JSON
Schema definitions under a small hand-written root (bundle, include, variables, targets,
resources). Unknown fields are errors, so a deprecated or misspelled field fails validation.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
import typing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.notebook_based_deployment.bundle import SCHEMA_FILE  # noqa: E402

VARIABLE_REFERENCE = {"type": "string", "pattern": r"^\$\{[^}]+\}$"}
SCALARS = {str: {"type": "string"}, bool: {"type": "boolean"}, int: {"type": "integer"},
           float: {"type": "number"}}  # fmt: skip


def _schema(tp, defs: dict) -> dict | None:
    if tp is type(None):
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Union:
        options = [s for s in (_schema(a, defs) for a in args) if s is not None]
        unique = [
            json.loads(o) for o in dict.fromkeys(json.dumps(o, sort_keys=True) for o in options)
        ]
        return unique[0] if len(unique) == 1 else {"anyOf": unique}
    if origin is not None and getattr(origin, "__name__", "") == "Variable":
        return VARIABLE_REFERENCE
    if origin in (list, typing.List):  # noqa: UP006
        return {"type": "array", "items": _schema(args[0], defs) or {}}
    if origin in (dict, typing.Dict):  # noqa: UP006
        return {"type": "object", "additionalProperties": _schema(args[1], defs) or {}}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [member.value for member in tp]}
    if dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder: recursion stops here
            hints = typing.get_type_hints(tp)
            properties, required = {}, []
            for f in dataclasses.fields(tp):
                properties[f.name] = _schema(hints[f.name], defs) or {}
                no_default = f.default is dataclasses.MISSING
                if no_default and f.default_factory is dataclasses.MISSING:
                    required.append(f.name)
            defs[name] = {"type": "object", "properties": properties, "additionalProperties": False}
            if required:
                defs[name]["required"] = required
        return {"$ref": f"#/$defs/{name}"}
    return SCALARS.get(tp, {})


def generate_schema() -> dict:
    from databricks.bundles.jobs import Job
    from databricks.bundles.pipelines import Pipeline

    defs: dict = {}
    pipeline_ref, job_ref = _schema(Pipeline, defs), _schema(Job, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Databricks bundle configuration (pipelines and jobs)",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "bundle": {
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
            },
            "include": {"type": "array", "items": {"type": "string"}},
            "variables": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "properties": {"description": {"type": "string"}, "default": {}},
                    "additionalProperties": False,
                },
            },
            "targets": {"type": "object", "additionalProperties": {"type": "object"}},
            "resources": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "pipelines": {"type": "object", "additionalProperties": pipeline_ref},
                    "jobs": {"type": "object", "additionalProperties": job_ref},
                },
            },
        },
        "$defs": dict(sorted(defs.items())),
    }


def render_schema() -> str:
    return json.dumps(generate_schema(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    SCHEMA_FILE.write_text(render_schema())
    print(f"written: {SCHEMA_FILE}")
