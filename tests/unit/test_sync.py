"""Planning a sync against a fake live-state reader; recording what is already deployed."""

from __future__ import annotations

import hashlib
import json

import pytest

from tools.lakeflow import core, sync
from tools.lakeflow.core import Change, Listing

ROOT = "/Workspace/Users/jane.doe@example.com/demo"


@pytest.fixture
def staged(repo):
    stage = repo.root / "build/stage/demo"
    files = {"ingest.py": "ingest", "libs/utils.py": "utils", "sources/demo/demo.py": "demo"}
    for rel, text in files.items():
        (stage / rel).parent.mkdir(parents=True, exist_ok=True)
        (stage / rel).write_text(text)
    return {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in files.items()}


@pytest.fixture
def live(monkeypatch):
    """The fake live-state reader: what `core.list_folder` reports for the source's folder."""
    listing = Listing()

    def list_folder(client, root, expected=()):
        assert root == ROOT
        # the folders staged or recorded files live in, ancestors included, asked for up front
        assert all(f.startswith(f"{ROOT}/") for f in expected), expected
        return listing

    def read_file(client, path):
        assert path == f"{ROOT}/{sync.MANIFEST}"
        return listing.manifest  # what `deployed` wrote

    monkeypatch.setattr(core, "list_folder", list_folder)
    monkeypatch.setattr(core, "read_file", read_file)
    return listing


def planned(ctx):
    return [(c.kind, c.name, c.action, c.reason) for c in sync.plan_files(ctx)]


def test_a_first_sync_creates_the_folders_then_every_file(ctx, staged, live):
    assert planned(ctx) == [
        ("folder", ROOT, "create", ""),
        ("folder", f"{ROOT}/libs", "create", ""),
        ("folder", f"{ROOT}/sources/demo", "create", ""),
        ("file", "ingest.py", "create", "new"),
        ("file", "libs/utils.py", "create", "new"),
        ("file", "sources/demo/demo.py", "create", "new"),
    ]


def deployed(ctx, staged, live, seen=5):
    live.folders.update({"", "libs", "sources", "sources/demo"})
    live.files.update({rel: seen for rel in staged})
    ctx.source_state["files"] = {
        rel: {"sha256": d, "modified_at": seen} for rel, d in staged.items()
    }
    live.files[sync.MANIFEST] = seen
    live.manifest = json.dumps(sync.manifest_of(ctx.source_state["files"])).encode()


def test_nothing_to_do_when_everything_matches(ctx, staged, live):
    deployed(ctx, staged, live)
    assert {a for _, _, a, _ in planned(ctx)} == {"unchanged"}


def test_only_the_edited_file_and_no_folder(ctx, staged, live, repo):
    deployed(ctx, staged, live)
    (repo.root / "build/stage/demo/libs/utils.py").write_text("utils, edited")
    assert [p for p in planned(ctx) if p[2] != "unchanged"] == [
        ("file", "libs/utils.py", "update", "changed")
    ]


def test_a_file_removed_from_the_stage_is_deleted(ctx, staged, live, repo):
    deployed(ctx, staged, live)
    (repo.root / "build/stage/demo/libs/utils.py").unlink()
    assert [p for p in planned(ctx) if p[2] != "unchanged"] == [
        ("file", "libs/utils.py", "delete", "")
    ]


def test_a_file_deleted_out_of_band_needs_its_folder_again(ctx, staged, live):
    deployed(ctx, staged, live)
    del live.files["libs/utils.py"]
    live.folders.discard("libs")
    assert [p for p in planned(ctx) if p[2] != "unchanged"] == [
        ("folder", f"{ROOT}/libs", "create", ""),
        ("file", "libs/utils.py", "update", "restore"),
    ]


def test_an_empty_stage_asks_for_doit_stage(ctx, live):
    with pytest.raises(FileNotFoundError, match="run `doit stage:demo`"):
        sync.plan_files(ctx)


def test_applying_a_no_op_records_live_times_and_forgets_vanished_files(ctx, staged, live):
    deployed(ctx, staged, live, seen=None)
    ctx.source_state["files"]["dropped.py"] = {"sha256": "x", "modified_at": 1}
    changes = [Change("file", rel, "unchanged", desired=d, live=9) for rel, d in staged.items()]
    sync.apply_files(ctx, changes)  # nothing writes, so the client is never built
    assert ctx.source_state["files"] == {
        rel: {"sha256": d, "modified_at": 9} for rel, d in staged.items()
    }
    assert "client" not in ctx.session.__dict__


def test_a_missing_or_stale_manifest_is_planned_for_a_rewrite(ctx, staged, live):
    deployed(ctx, staged, live)
    live.manifest = b"{not json"
    assert [p for p in planned(ctx) if p[2] != "unchanged"] == [
        ("manifest", sync.MANIFEST, "update", "corrupt")
    ]
    del live.files[sync.MANIFEST]
    assert [p for p in planned(ctx) if p[2] != "unchanged"] == [
        ("manifest", sync.MANIFEST, "create", "missing")
    ]


def test_sha256_of_a_file(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"abc")
    assert sync.sha256(path) == hashlib.sha256(b"abc").hexdigest()
