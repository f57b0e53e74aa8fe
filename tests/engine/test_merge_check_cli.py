"""`merge_python_source.py all --check` merges each source once (it used to merge all per name)."""

from __future__ import annotations

from tools.lakeflow import merge, project
from tools.scripts import merge_python_source


def test_check_all_merges_every_source_exactly_once(monkeypatch, capsys):
    merged: list[str] = []
    real_merge = merge.merge_source

    def counting_merge(name, root=project.REPO_ROOT):
        merged.append(name)
        return real_merge(name, root)

    monkeypatch.setattr(merge, "merge_source", counting_merge)
    assert merge_python_source.main(["all", "--check"]) == 0
    assert sorted(merged) == project.source_names()
    assert "up to date" in capsys.readouterr().out
