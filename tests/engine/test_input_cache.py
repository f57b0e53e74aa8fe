"""The merge tasks' cached file_dep: reused while the files are unchanged, never trusted over them."""

from __future__ import annotations

import json
import os

import pytest

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import input_cache, merge

NAMES = ["example", "second"]


@pytest.fixture
def box(tmp_path) -> DoitSandbox:
    sandbox = DoitSandbox(tmp_path, sources=("example",))
    sandbox.clone_source("example", "second")
    return sandbox


@pytest.fixture
def parsed(monkeypatch) -> list[str]:
    """The names whose import graph was parsed (a real merge.merge_inputs call each)."""
    calls: list[str] = []
    real = merge.merge_inputs

    def counting(name, root):
        calls.append(name)
        return real(name, root)

    monkeypatch.setattr(merge, "merge_inputs", counting)
    return calls


def cached(box: DoitSandbox) -> dict:
    return input_cache.merge_inputs(NAMES, box.root)


def test_an_unchanged_repo_parses_nothing_and_gives_the_real_graph(box, parsed):
    first = cached(box)
    assert sorted(parsed) == NAMES
    parsed.clear()
    assert cached(box) == first
    assert parsed == []
    for name in NAMES:
        assert first[name] == [str(p) for p in merge.merge_inputs(name, box.root)]


def test_editing_one_connector_reparses_only_it(box, parsed):
    cached(box)
    parsed.clear()
    box.edit("sources/second/second.py", "\n\nfrom libs import http_retry as retry_again\n")
    graph = cached(box)
    assert parsed == ["second"]
    assert str(box.root / "libs" / "http_retry.py") in graph["second"]


def test_a_shared_module_edited_in_the_same_process_is_read_again(box, parsed):
    """Graphs share what they read of a shared module within a process (after a shared edit,
    200 connectors list the same modules); an edit of that module is still seen at once."""
    retry = str(box.root / "libs" / "http_retry.py")
    assert all(retry not in graph for graph in cached(box).values())
    box.edit("libs/connector_base.py", "\n\nfrom libs import http_retry as _retry\n")
    assert all(retry in graph for graph in cached(box).values())
    for name in NAMES:
        assert cached(box)[name] == [str(p) for p in merge.merge_inputs(name, box.root)]


def test_a_touch_without_a_change_is_recognised_by_content_hash(box, parsed):
    cached(box)
    parsed.clear()
    connector = box.root / "sources/example/example.py"
    stat = connector.stat()
    os.utime(connector, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    cached(box)
    assert parsed == []
    stamps = json.loads(input_cache.cache_path(box.root).read_text())["stamps"]
    assert stamps[str(connector)][1] == stat.st_mtime_ns + 10**9  # next time: stat only


def test_editing_a_shared_module_reparses_every_connector_using_it(box, parsed):
    cached(box)
    parsed.clear()
    box.edit("libs/utils.py", "\n\nSHARED = 1\n")
    cached(box)
    assert sorted(parsed) == NAMES


def test_a_new_file_in_a_watched_folder_reparses_who_could_import_it(box, parsed):
    cached(box)
    parsed.clear()
    (box.root / "sources/second/helpers.py").write_text("X = 1\n")
    cached(box)
    assert parsed == ["second"]


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"version": 1, "stamps": [], "sources": {}}', '{"version": 999}'],
)
def test_a_corrupt_cache_is_rebuilt_silently(box, parsed, content):
    expected = cached(box)
    input_cache.cache_path(box.root).write_text(content)
    parsed.clear()
    assert cached(box) == expected
    assert sorted(parsed) == NAMES
    assert json.loads(input_cache.cache_path(box.root).read_text())["version"] == 1


def test_a_cache_whose_stamps_do_not_match_the_files_is_not_trusted(box, parsed):
    cached(box)
    path = input_cache.cache_path(box.root)
    data = json.loads(path.read_text())
    # A cache claiming a different graph, with a stamp that no longer matches the file on disk.
    data["sources"]["example"]["inputs"] = [str(box.root / "libs/utils.py")]
    data["stamps"][str(box.root / "libs/utils.py")] = [1, 1, "0" * 64]
    path.write_text(json.dumps(data))
    parsed.clear()
    assert cached(box)["example"] == [str(p) for p in merge.merge_inputs("example", box.root)]
    assert "example" in parsed
