"""Deploy benchmark: no-op deploy time and requests per deploy, against the guide's copydir flow.

    python tools/benchmarks/deploy_benchmark.py [--source example] [--repeat 3]

In a temporary copy of the repo with its own local workspace. The guide's flow after an edit is
replayed with the same SDK against the same workspace: upload every staged file (copydir), then
find the pipeline, delete it and create it again (createpipeline), which is what its shell
functions do. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from databricks.sdk import WorkspaceClient  # noqa: E402
from databricks.sdk.core import Config  # noqa: E402
from databricks.sdk.service.workspace import ImportFormat  # noqa: E402

from tests.engine.doit_sandbox import DoitSandbox  # noqa: E402
from tools.local_workspace import LocalWorkspace  # noqa: E402

WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def count(requests: list[dict]) -> str:
    writes = sum(1 for r in requests if r["method"] in WRITES)
    return f"{len(requests)} requests ({writes} writes)"


def copydir_flow(ws: LocalWorkspace, box: DoitSandbox, source: str) -> None:
    """The guide's Step 2 + createpipeline, after the stage is built."""
    client = WorkspaceClient(config=Config(host=ws.url, token=ws.token, retry_timeout_seconds=20))
    user = client.current_user.me().user_name
    root = f"/Workspace/Users/{user}/{source}-copydir"
    stage = box.root / "build" / "stage" / source
    for path in sorted(p for p in stage.rglob("*") if p.is_file()):
        rel = path.relative_to(stage).as_posix()
        client.workspace.mkdirs(f"{root}/{Path(rel).parent}".rstrip("/."))
        client.workspace.import_(
            f"{root}/{rel}",
            content=base64.b64encode(path.read_bytes()).decode(),
            format=ImportFormat.AUTO,
            overwrite=True,
        )
    name = f"{user.split('@')[0].replace('.', '_')}_{source}_copydir"
    for status in client.pipelines.list_pipelines(filter=f"name LIKE '{name}'"):
        client.pipelines.delete(status.pipeline_id)
    client.api_client.do(
        "POST",
        "/api/2.0/pipelines",
        body={
            "name": name,
            "catalog": "main",
            "schema": name,
            "serverless": True,
            "development": True,
            "configuration": {"source_name": source},
            "libraries": [{"file": {"path": f"{root}/ingest.py"}}],
        },
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="example")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    task = f"deploy:{args.source}"
    env = {"LAKEFLOW_SKIP_CHECK": "1"}  # the Spark check is measured by `nox -s spark`
    with tempfile.TemporaryDirectory() as tmp:
        box = DoitSandbox(Path(tmp), sources=(args.source,))
        with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
            start = time.perf_counter()
            box.doit(task, env=env)
            first = time.perf_counter() - start
            seen = len(ws.requests())

            samples = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                box.doit(task, env=env)
                samples.append(time.perf_counter() - start)
            noop_requests = ws.requests()[seen:]
            per_noop = len(noop_requests) // args.repeat

            box.edit(f"sources/{args.source}/{args.source}.py", "\n\nBENCHMARK_EDIT = 1\n")
            seen = len(ws.requests())
            box.doit(task, env=env)
            edit_requests = ws.requests()[seen:]

            box.doit(f"stage:{args.source}")
            copydir_flow(ws, box, args.source)  # first run creates; the second is the measured one
            seen = len(ws.requests())
            copydir_flow(ws, box, args.source)
            copydir_requests = ws.requests()[seen:]

    print(f"first deploy of {args.source} (incl. merge and stage): {first:.2f} s")
    print(
        f"no-op deploy: {statistics.median(samples):.2f} s median of {args.repeat} "
        f"(doit process start included), {count(noop_requests[:per_noop])}"
    )
    print(f"deploy after editing {args.source}.py: {count(edit_requests)}")
    print(f"guide's copydir + createpipeline on the same edit: {count(copydir_requests)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
