"""Requests per deploy in each deploy mode: a no-op, and a one-line edit of the connector.

    python tools/benchmarks/mode_requests.py [--source example]

For `files` and `managed` in turn, in a temporary copy of the repo with its own local workspace:
a first deploy, a second (no-op) deploy, then a deploy after appending one line to the connector.
Prints the requests each deploy sent (and how many were writes); asserts nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.engine.doit_sandbox import DoitSandbox  # noqa: E402
from tools.local_workspace import LocalWorkspace  # noqa: E402

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def measure(mode: str, source: str) -> list[tuple[str, list[dict]]]:
    with tempfile.TemporaryDirectory() as tmp:
        box = DoitSandbox(Path(tmp), sources=(source,))
        spec = box.root / "sources" / source / "pipeline_spec.yaml"
        spec.write_text(f"mode: {mode}\n" + spec.read_text())
        log = LocalWorkspace(box.root / ".lakeflow" / "local")
        rows = []
        for label, edit in (("first deploy", None), ("no-op", None), ("one-line edit", True)):
            if edit:
                box.edit(f"sources/{source}/{source}.py", "\n\nBENCHMARK_EDIT = 1\n")
            before = len(log.requests())
            box.doit(f"deploy:{source}")
            rows.append((label, log.requests()[before:]))
        return rows


def describe(requests: list[dict]) -> str:
    writes = [r for r in requests if r["method"] in WRITES]
    kinds = Counter(f"{r['method']} {'/'.join(r['path'].split('/')[3:5])}" for r in writes)
    detail = ", ".join(f"{n}× {k}" for k, n in sorted(kinds.items()))
    return f"{len(requests):3d} requests, {len(writes):2d} writes" + (
        f" ({detail})" if detail else ""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="example")
    args = parser.parse_args()
    for mode in ("files", "managed"):
        for label, requests in measure(mode, args.source):
            print(f"{mode:8s} {label:14s} {describe(requests)}")


if __name__ == "__main__":
    main()
