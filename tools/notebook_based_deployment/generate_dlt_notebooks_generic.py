"""Generate one DLT notebook per pipeline group from a metadata CSV (and the bundle YAML).

    python tools/notebook_based_deployment/generate_dlt_notebooks_generic.py \\
        --connector-name github --input-csv tables.csv --output-dir dlt_notebooks/github \\
        --connector-path /Volumes/main/github/connectors/github \\
        --connector-config config.json --generate-all-groups

Notebooks go to <output-dir>/notebooks/<group>.py, bundle YAML to <output-dir>/resources/ (and
<output-dir>/databricks.yml if there is none). Errors name the file, row and column; exit 1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.lakeflow import project  # noqa: E402
from tools.lakeflow.errors import LakeflowError  # noqa: E402
from tools.notebook_based_deployment.bundle import (  # noqa: E402
    bundle_documents,
    validate_bundle,
    write_bundle,
)
from tools.notebook_based_deployment.metadata_csv import read_csv  # noqa: E402
from tools.notebook_based_deployment.notebooks import (  # noqa: E402
    ConnectorConfig,
    render_notebooks,
    write_notebooks,
)
from tools.notebook_based_deployment.secret_options import secret_parameters  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate DLT notebooks per pipeline group.")
    parser.add_argument("--connector-name", required=True)
    parser.add_argument("--input-csv", required=True, type=Path)
    parser.add_argument("--output-dir", required=True, type=Path)
    parser.add_argument("--connector-path", required=True, help="folder of the merged source")
    parser.add_argument(
        "--connector-config", type=Path, help="JSON: secrets scope, mappings, options"
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--pipeline-group", help="generate this group only")
    which.add_argument("--generate-all-groups", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.connector_name not in project.source_names():
            raise LakeflowError(
                f"unknown connector {args.connector_name!r}", field="--connector-name"
            )
        rows = read_csv(args.input_csv)
        config = (
            ConnectorConfig.load(args.connector_config, secret_parameters(args.connector_name))
            if args.connector_config
            else ConnectorConfig()
        )
        # Everything is rendered and validated before the first file is written.
        texts = render_notebooks(
            args.connector_name, rows, args.connector_path, config, args.pipeline_group
        )
        resources, root = bundle_documents(args.connector_name, rows)
        validate_bundle(resources, root, f"{args.connector_name}_pipelines.yml")
        written = write_notebooks(texts, args.output_dir / "notebooks")
        bundle = write_bundle(args.connector_name, rows, args.output_dir)
    except LakeflowError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for group, path in written.items():
        print(f"notebook {group}: {path}")
    for path in bundle:
        print(f"bundle: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
