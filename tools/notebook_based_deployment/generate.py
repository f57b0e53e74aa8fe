"""A preset → its notebooks and bundle YAML, validated in memory, then written to
build/notebooks/<connector>/ (`doit notebooks:<c>`, and the first step of `notebook_deploy`).

Everything is read and checked first (preset, CSV rows, cron, secrets, rendered notebooks, the
bundle against the schema and the databricks-bundles classes); only then is anything written, so
bad input leaves build/ as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools.lakeflow import project
from tools.notebook_based_deployment.bundle import bundle_documents, validate_bundle, write_bundle
from tools.notebook_based_deployment.metadata_csv import TableRow
from tools.notebook_based_deployment.notebooks import render_notebooks, write_notebooks
from tools.notebook_based_deployment.presets import Preset, load_preset, preset_path, preset_rows


@dataclass
class Generated:
    preset: Preset
    rows: list[TableRow]
    notebooks: dict[str, str]  # pipeline group → notebook source
    resources: dict  # the bundle's resources document (pipelines and jobs)

    @property
    def connector(self) -> str:
        return self.preset.connector


def output_dir(connector: str, root: Path = project.REPO_ROOT) -> Path:
    return root / "build" / "notebooks" / connector


def volume_dir(preset: Preset) -> str:
    """Where the merged connector and the runtime modules live: the preset's UC volume."""
    return f"/Volumes/{preset.catalog}/{preset.schema}/{preset.volume}/{preset.connector}"


def bundle_settings(preset: Preset) -> dict:
    return {
        "pipeline": preset.bundle_pipeline_settings,
        "jobs": preset.jobs,
        "catalog": preset.catalog,
        "schema": preset.schema,
    }


def build(connector: str, root: Path = project.REPO_ROOT) -> Generated:
    """Everything generated and validated, nothing written."""
    preset = load_preset(preset_path(connector, root), root)
    rows = preset_rows(preset, root)
    texts = render_notebooks(connector, rows, volume_dir(preset), preset.connector_config)
    resources, root_document = bundle_documents(connector, rows, **bundle_settings(preset))
    validate_bundle(resources, root_document, f"{connector}_pipelines.yml")
    return Generated(preset, rows, texts, resources)


def write(generated: Generated, root: Path = project.REPO_ROOT) -> dict[str, Path]:
    """Notebooks (those of removed groups deleted) and bundle YAML under build/; group → file."""
    out = output_dir(generated.connector, root)
    files = write_notebooks(generated.notebooks, out / "notebooks", prune=True)
    write_bundle(
        generated.connector,
        generated.rows,
        out,
        replace_root=True,
        **bundle_settings(generated.preset),
    )
    print(
        f"notebooks {generated.connector}: {len(files)} pipeline groups in "
        f"{out.relative_to(root) if out.is_relative_to(root) else out}"
    )
    return files


def generate_from_preset(connector: str, root: Path = project.REPO_ROOT) -> Generated:
    generated = build(connector, root)
    write(generated, root)
    return generated
