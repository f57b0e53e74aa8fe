"""A deploy's read-only checks: started together in threads, each result used once."""

from __future__ import annotations

import threading

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import core
from tools.lakeflow.targets import Target
from tools.local_workspace import LocalWorkspace


def test_a_prefetched_read_runs_while_the_caller_goes_on_and_is_used_once(tmp_path):
    session = core.Session(Target(name="local", kind="local"), tmp_path)
    caller_went_on = threading.Event()
    reads: list[str] = []

    def slow_read() -> str:
        # Returns only once the caller has moved past prefetch: a synchronous prefetch would
        # wait here for 10 s and then fail the assertion below.
        reads.append("live" if caller_went_on.wait(timeout=10) else "blocked the caller")
        return reads[-1]

    session.prefetch("connection", slow_read)
    caller_went_on.set()
    assert session.take("connection", slow_read) == "live"
    # A second take reads afresh: a step never gets a result older than its own writes.
    assert session.take("connection", slow_read) == "live"
    assert len(reads) == 2


def test_a_no_op_deploy_reads_each_remote_object_once(tmp_path):
    box = DoitSandbox(tmp_path, sources=("example",))
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        box.doit("deploy:example")
        before = len(ws.requests())
        box.doit("deploy:example")
        new = ws.requests()[before:]
    assert all(r["method"] == "GET" for r in new), new
    listed = [r for r in new if r["path"].endswith("/workspace/list")]
    others = [r["path"] for r in new if r not in listed]
    # One listing per remote folder (the root, libs, pipeline, sources, sources/example), one
    # read each of the connection, the schema and the pipeline, and the SDK's own host metadata.
    assert len(listed) == 5
    assert len(others) == len(set(others)) == 4, others


def test_a_no_op_deploy_sends_its_reads_together(tmp_path):
    # With each request held 500 ms, reads sent one after another never overlap (each logs
    # in_flight 1); the deploy's listings and its connection, schema and pipeline reads are sent
    # at once, so the server sees them in flight together.
    box = DoitSandbox(tmp_path, sources=("example",))
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        box.doit("deploy:example")
        before = len(ws.requests())
        box.doit("deploy:example", env={"LAKEFLOW_LOCAL_LATENCY_MS": "500"})
        new = ws.requests()[before:]
    assert len(new) == 9
    assert max(r["in_flight"] for r in new) >= 8, [(r["path"], r["in_flight"]) for r in new]
