"""Lint and test sessions. Declarations only; the logic lives in tools/lakeflow.

`nox` runs lint, merge_check, every test session and the spark session; `nox -s test` runs one
test session per connector plus the engine's; `nox -s test -- --since <git-ref>` (or
LAKEFLOW_SINCE=<git-ref>) runs only the sessions a change since that ref affects.
"""

import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from tools.lakeflow import changes, project, test_results  # noqa: E402

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["lint", "merge_check", "test", "spark"]

SOURCES = project.source_names()
# What every connector's tests need besides its own requirements.txt.
CONNECTOR_TEST_DEPS = ["pytest>=8", "pyspark>=4.0,<5", "pyyaml>=6", "requests>=2.31"]


def _split_since(session: nox.Session) -> tuple[str | None, list[str]]:
    """`--since REF` from the session's arguments (or LAKEFLOW_SINCE); the rest go to pytest."""
    args = list(session.posargs)
    if "--since" not in args:
        return os.environ.get("LAKEFLOW_SINCE") or None, args
    index = args.index("--since")
    if index + 1 >= len(args):
        session.error("--since needs a git ref, e.g. `nox -s test -- --since origin/main`")
    return args[index + 1], args[:index] + args[index + 2 :]


def _run_pytest(session: nox.Session, target: str, *pytest_args: str) -> None:
    """Run pytest, then refuse a run that collected nothing (pytest's exit code 5)."""
    report = test_results.report_path(target)
    report.parent.mkdir(parents=True, exist_ok=True)
    session.run("pytest", f"--junitxml={report}", *pytest_args, success_codes=[0, 5])
    counts = test_results.read_counts(report)
    if counts.collected == 0:
        session.error(f"{target}: pytest collected no tests; every target needs at least one")


@nox.session(tags=["ci"])
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(tags=["ci"])
def merge_check(session: nox.Session) -> None:
    """Fail when a committed generated file is not what the merge produces now."""
    session.run("python", "tools/scripts/merge_python_source.py", "all", "--check", external=True)


@nox.session(tags=["ci"])
@nox.parametrize("target", [*SOURCES, changes.ENGINE], ids=[*SOURCES, changes.ENGINE])
def test(session: nox.Session, target: str) -> None:
    since, pytest_args = _split_since(session)
    if since:
        affected = changes.affected_targets(changes.changed_files(since), SOURCES)
        if target not in affected:
            session.skip(f"{target}: nothing it depends on changed since {since}")
    if target == changes.ENGINE:
        session.install("-e", ".[dev]")
        _run_pytest(session, target, "tests", "-m", "not spark", *pytest_args)
        return
    session.install(*CONNECTOR_TEST_DEPS)
    requirements = project.source_dir(target) / "requirements.txt"
    if requirements.is_file() and requirements.read_text().strip():
        session.install("-r", str(requirements))
    test_dir = str(project.source_dir(target) / "test")
    _run_pytest(session, target, test_dir, "-m", "not spark", *pytest_args)


@nox.session(tags=["ci"])
def spark(session: nox.Session) -> None:
    """Every merged connector read in a real local SparkSession (Java 17 needed)."""
    session.install("-e", ".[dev]")
    _run_pytest(session, "spark", "tests/spark", "-m", "spark", *session.posargs)
