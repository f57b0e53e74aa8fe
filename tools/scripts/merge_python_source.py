"""Merge a connector with the shared runtime into its single generated file.

    python tools/scripts/merge_python_source.py <name>|all [-o PATH] [--check]

`--check` writes nothing and exits 1 when a generated file is missing or stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tools.lakeflow import merge, project  # noqa: E402
from tools.lakeflow.errors import LakeflowError  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Merge connectors into single-file sources.")
    parser.add_argument("source", help="a connector name, or `all`")
    parser.add_argument("-o", "--output", type=Path, help="output path (single source only)")
    parser.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    args = parser.parse_args(argv)

    names = project.source_names() if args.source == "all" else [args.source]
    if args.output and len(names) != 1:
        parser.error("-o/--output needs a single source name")
    if args.source != "all" and args.source not in project.source_names():
        known = ", ".join(project.source_names())
        print(f"error: unknown source {args.source!r} (known: {known})", file=sys.stderr)
        return 1
    try:
        if args.check:
            # one merge per source: the stale set is computed once, not once per name
            stale_everywhere = set(merge.stale_generated_files())
            stale = [n for n in names if n in stale_everywhere]
            for name in stale:
                path = project.generated_file(name).relative_to(project.REPO_ROOT)
                print(f"stale: {path} (run `doit merge:{name}` and commit it)")
            print(f"{len(names) - len(stale)} of {len(names)} generated files up to date")
            return 1 if stale else 0
        for name in names:
            written = merge.write_merged(name, output=args.output)
            target = args.output or project.generated_file(name).relative_to(project.REPO_ROOT)
            print(f"{'written' if written else 'unchanged'}: {target}")
    except LakeflowError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
