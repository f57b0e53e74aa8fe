"""Lint and test sessions. Declarations only; the logic lives in tools/lakeflow.

`nox` runs unit (the engine's plain-function tests, seconds) first, then lint, typecheck,
merge_check, every test session and the spark session; `nox -s test` runs one
test session per connector plus the engine's; `nox -s test -- --since <git-ref>` (or
LAKEFLOW_SINCE=<git-ref>) runs only the sessions a change since that ref affects.
"""

import importlib.util
import os
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from tools.lakeflow import changes, project, test_results  # noqa: E402

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = ["unit", "lint", "typecheck", "merge_check", "test", "spark"]

SOURCES = project.source_names()
# What every connector's tests need besides its own requirements.txt. Connector tests never start
# Spark: they need only pyspark.sql.types, Row and the data source base classes, which the Spark
# Connect client ships as plain Python. Installed without its dependencies (pandas, pyarrow, grpc
# serve only a Connect session), a connector's venv is ~25 MB of uv-cache hard links made in under
# a second, instead of a ~0.5 GB pyspark built from its sdist. Never beside `pyspark` in one env.
CONNECTOR_TEST_DEPS = ["pytest>=8", "pyyaml>=6", "requests>=2.31"]
SPARK_API_ONLY = "pyspark-client>=4.0,<5"
# The engine, spark, lint and merge_check sessions run in the interpreter running nox: the dev
# environment `./dev` keeps in sync with pyproject.toml, so the full pyspark is installed once per
# machine, not once per session.
DEV_PYTHON = sys.executable
# pytest-xdist workers of the engine session (LAKEFLOW_TEST_WORKERS overrides; 0 runs serially)
ENGINE_WORKERS = 4


def _split_since(session: nox.Session) -> tuple[str | None, list[str]]:
    """`--since REF` from the session's arguments (or LAKEFLOW_SINCE); the rest go to pytest."""
    args = list(session.posargs)
    if "--since" not in args:
        return os.environ.get("LAKEFLOW_SINCE") or None, args
    index = args.index("--since")
    if index + 1 >= len(args):
        session.error("--since needs a git ref, e.g. `nox -s test -- --since origin/main`")
    return args[index + 1], args[:index] + args[index + 2 :]


def _dev_env(session: nox.Session) -> str:
    """The dev environment's interpreter; a clear error when nox was not started by ./dev."""
    if importlib.util.find_spec("pytest") is None or importlib.util.find_spec("pyspark") is None:
        session.error(f"{session.name} runs in the dev environment: start nox with `./dev nox`")
    return DEV_PYTHON


def _run_pytest(session: nox.Session, target: str, *pytest_args: str, python=None) -> None:
    """Run pytest (in the session's venv, or with `python`), then refuse a run that collected
    nothing (pytest's exit code 5)."""
    report = test_results.report_path(target)
    report.parent.mkdir(parents=True, exist_ok=True)
    command = [python, "-m", "pytest"] if python else ["pytest"]
    session.run(
        *command, f"--junitxml={report}", *pytest_args, success_codes=[0, 5], external=bool(python)
    )
    counts = test_results.read_counts(report)
    if counts.collected == 0:
        session.error(f"{target}: pytest collected no tests; every target needs at least one")


@nox.session(tags=["ci"], venv_backend="none")
def unit(session: nox.Session) -> None:
    """The engine's plain-function tests (no server, no subprocess): the fast first signal."""
    _run_pytest(session, "unit", "tests/unit", *session.posargs, python=_dev_env(session))


@nox.session(tags=["ci"], venv_backend="none")
def typecheck(session: nox.Session) -> None:
    """mypy, strict for tools/lakeflow (configured in pyproject.toml)."""
    session.run(_dev_env(session), "-m", "mypy", *session.posargs, external=True)


@nox.session(tags=["ci"], venv_backend="none")
def lint(session: nox.Session) -> None:
    python = _dev_env(session)
    session.run(python, "-m", "ruff", "check", ".", external=True)
    session.run(python, "-m", "ruff", "format", "--check", ".", external=True)


@nox.session(tags=["ci"], venv_backend="none")
def merge_check(session: nox.Session) -> None:
    """Fail when a committed generated file is not what the merge produces now."""
    python = _dev_env(session)
    session.run(python, "tools/scripts/merge_python_source.py", "all", "--check", external=True)


@nox.session(tags=["ci"])
@nox.parametrize("target", [*SOURCES, changes.ENGINE], ids=[*SOURCES, changes.ENGINE])
def test(session: nox.Session, target: str) -> None:
    since, pytest_args = _split_since(session)
    if since:
        affected = changes.affected_targets(changes.changed_files(since), SOURCES)
        if target not in affected:
            session.skip(f"{target}: nothing it depends on changed since {since}")
    if target == changes.ENGINE:
        # The venv nox made for this parameter stays empty (~0.1 s): the engine tests need the
        # whole project, which is exactly the dev environment.
        python = _dev_env(session)
        # tests/unit has its own session, `unit`, run first. The engine tests mostly wait on doit
        # subprocesses and sockets, so they run on more xdist workers than cores (tests/conftest.py
        # keeps a module that shares a module-scoped fixture on one worker).
        workers = os.environ.get("LAKEFLOW_TEST_WORKERS", str(ENGINE_WORKERS))
        pytest_args = ["--ignore=tests/unit", "-n", workers, "--dist", "loadgroup", *pytest_args]
        _run_pytest(session, target, "tests", "-m", "not spark", *pytest_args, python=python)
        return
    session.install(*CONNECTOR_TEST_DEPS)
    session.install("--no-deps", SPARK_API_ONLY)
    requirements = project.source_dir(target) / "requirements.txt"
    if requirements.is_file() and requirements.read_text().strip():
        session.install("-r", str(requirements))
    test_dir = str(project.source_dir(target) / "test")
    _run_pytest(session, target, test_dir, "-m", "not spark", *pytest_args)


@nox.session(tags=["ci"], venv_backend="none")
def spark(session: nox.Session) -> None:
    """Every merged connector read in a real local SparkSession (Java 17 needed)."""
    python = _dev_env(session)
    _run_pytest(session, "spark", "tests/spark", "-m", "spark", *session.posargs, python=python)
