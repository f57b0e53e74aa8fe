"""Render one DLT notebook per pipeline group (Databricks notebook source format)."""

from __future__ import annotations

import json
import pprint
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from libs import runtime_names
from tools.lakeflow.errors import LakeflowError
from tools.notebook_based_deployment import secret_options
from tools.notebook_based_deployment.metadata_csv import TableRow, groups

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class ConnectorConfig:
    """Where the notebook finds the connector's options: secrets (by key name) and constants."""

    secrets_scope: str = ""
    secret_mappings: dict[str, list[str]] = field(default_factory=dict)
    static_options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(
        cls, data: dict, source: str, secret_names: set[str] = frozenset()
    ) -> ConnectorConfig:
        """Validated. Secret options (`secret_names`, from connector_spec.yaml, and any option
        named like a secret) are refused as static options: their values would be in the
        notebook's source."""
        known = {"secrets_scope", "secret_mappings", "static_options"}
        for key in data:
            if key not in known:
                raise LakeflowError("unknown field", file=source, field=key)
        mappings = {}
        for option, keys in (data.get("secret_mappings") or {}).items():
            keys = [keys] if isinstance(keys, str) else keys
            if (
                not isinstance(keys, list)
                or not keys
                or not all(isinstance(k, str) and k for k in keys)
            ):
                raise LakeflowError(
                    "expected a secret key or a non-empty list of keys",
                    file=source,
                    field=f"secret_mappings.{option}",
                )
            mappings[option] = list(keys)
        static = data.get("static_options") or {}
        if not isinstance(static, dict) or not all(isinstance(v, str) for v in static.values()):
            raise LakeflowError(
                "expected an object of strings", file=source, field="static_options"
            )
        for option in static:
            if option in secret_names or secret_options.looks_secret(option):
                raise LakeflowError(
                    secret_options.hint(option), file=source, field=f"static_options.{option}"
                )
        clash = sorted(set(static) & set(mappings))
        if clash:
            raise LakeflowError(
                "both static and secret", file=source, field=f"static_options.{clash[0]}"
            )
        scope = data.get("secrets_scope", "")
        if mappings and (not isinstance(scope, str) or not scope):
            raise LakeflowError(
                "secret_mappings need a secrets_scope", file=source, field="secrets_scope"
            )
        return cls(scope, mappings, dict(static))

    @classmethod
    def load(cls, path: Path, secret_names: set[str] = frozenset()) -> ConnectorConfig:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise LakeflowError(f"cannot read: {error}", file=str(path)) from None
        return cls.parse(data, str(path), secret_names)


def pipeline_spec(connector: str, rows: list[TableRow]) -> dict:
    objects = []
    for row in rows:
        table = {"source_table": row.source_table}
        for column in ("destination_catalog", "destination_schema", "destination_table"):
            if getattr(row, column):
                table[column] = getattr(row, column)
        if row.table_configuration():
            table["table_configuration"] = row.table_configuration()
        objects.append({"table": table})
    return {"connection_name": f"{connector}_connection", "objects": objects}


def render_notebook(
    connector: str, group: str, rows: list[TableRow], connector_path: str, config: ConnectorConfig
) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pyrepr"] = lambda value: pprint.pformat(value, width=96, sort_dicts=False)
    text = env.get_template("dlt_notebook.py.j2").render(
        names=runtime_names,
        connector=connector,
        group=group,
        connector_path=connector_path.rstrip("/"),
        secrets_scope=config.secrets_scope,
        secret_mappings=config.secret_mappings,
        static_options=config.static_options,
        pipeline_spec=pipeline_spec(connector, rows),
    )
    compile(text, f"{connector}_{group}.py", "exec")  # a notebook that does not compile is a bug
    return text


def render_notebooks(
    connector: str,
    rows: list[TableRow],
    connector_path: str,
    config: ConnectorConfig,
    only_group: str | None = None,
) -> dict[str, str]:
    """Notebook text per group (or just `only_group`), all rendered before any is written."""
    grouped = groups(rows)
    if only_group is not None:
        if only_group not in grouped:
            raise LakeflowError(
                f"no rows in pipeline group {only_group!r} (groups: {', '.join(grouped)})",
                field="--pipeline-group",
            )
        grouped = {only_group: grouped[only_group]}
    return {
        group: render_notebook(connector, group, group_rows, connector_path, config)
        for group, group_rows in grouped.items()
    }


def write_notebooks(
    texts: dict[str, str], output_dir: Path, prune: bool = False
) -> dict[str, Path]:
    """`<output_dir>/<group>.py` per group, rewritten only when its text changed; with `prune`
    (a folder of generated notebooks only) notebooks of groups that are gone are removed."""
    output_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for group, text in texts.items():
        path = output_dir / f"{group}.py"
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        written[group] = path
    if prune:
        for stale in output_dir.glob("*.py"):
            if stale.stem not in texts:
                stale.unlink()
    return written


def generate_notebooks(
    connector: str,
    rows: list[TableRow],
    output_dir: Path,
    connector_path: str,
    config: ConnectorConfig,
    only_group: str | None = None,
) -> dict[str, Path]:
    """Write `<output_dir>/<group>.py` per group (or just `only_group`); returns group → file."""
    texts = render_notebooks(connector, rows, connector_path, config, only_group)
    return write_notebooks(texts, output_dir)
