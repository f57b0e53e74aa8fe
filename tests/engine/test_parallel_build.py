"""`doit -n 4` builds exactly what a serial `doit` builds, and leaves a complete doit state."""

from __future__ import annotations

import hashlib
import shutil

from tests.engine.doit_sandbox import DoitSandbox

SOURCES = ("example", "github", "hubspot", "zendesk")


def outputs(box: DoitSandbox) -> dict[str, str]:
    """Every generated file and every staged file, by path, with its content hash."""
    files = [*box.root.glob("sources/*/_generated_*_python_source.py")]
    files += [p for p in (box.root / "build" / "stage").rglob("*") if p.is_file()]
    return {
        p.relative_to(box.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files
    }


def test_parallel_and_serial_builds_are_byte_identical(tmp_path):
    box = DoitSandbox(tmp_path, sources=SOURCES)
    for generated in box.root.glob("sources/*/_generated_*_python_source.py"):
        generated.unlink()  # both runs must produce these, not find them

    parallel_ran = box.ran("-n", "4")
    assert {f"{kind}:{name}" for kind in ("merge", "stage") for name in SOURCES} <= parallel_ran
    parallel = outputs(box)
    assert len(parallel) > 4 * len(SOURCES)
    # The state the parallel workers reported is complete: nothing is left to do.
    assert box.ran() == set()

    for generated in box.root.glob("sources/*/_generated_*_python_source.py"):
        generated.unlink()
    shutil.rmtree(box.root / "build")
    shutil.rmtree(box.root / ".lakeflow")
    box.ran()
    assert outputs(box) == parallel
