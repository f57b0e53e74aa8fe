"""How the engine session spreads tests over pytest-xdist workers (`-n N --dist loadgroup`).

Tests go out one by one, except the tests of a module that shares a module-scoped fixture (a
sandbox built once, or tests that build on what the previous one left deployed): such a module is
one work unit, so its fixture is set up once and its tests run in file order on one worker, as
they do without xdist. The largest units are handed out first. A fixture that tests only read
(a reference to compare against) can be session-scoped instead: each worker builds it once and
the module's tests spread over the workers.

xdist's own loadgroup reads `xdist_group` marks by renaming node ids, which pytest 9.2 no longer
lets a plugin do, so the grouping is decided here, from the module's source, by the controller.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

MODULE_FIXTURE = re.compile(r"@pytest\.fixture\([^)]*scope=[\"'](module|package|class)[\"']")


@functools.cache
def shares_a_module_fixture(module: Path) -> bool:
    return module.is_file() and bool(MODULE_FIXTURE.search(module.read_text()))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ModuleFixtureScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if shares_a_module_fixture(config.rootpath / module) else nodeid

    return ModuleFixtureScheduling(config, log)
