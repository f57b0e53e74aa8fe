"""Which modules a merged connector may import: the one list of what the cluster already has.

A merged file runs on a Databricks cluster that has the standard library, the Databricks runtime's
preinstalled Python packages (below), and whatever the connector declares in its own
`requirements.txt` or `pyproject.toml` (upstream's per-connector wheels). Anything else fails there
with ImportError, so the merge rejects it first.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

# Import names preinstalled in the Databricks runtime (serverless and classic LTS images) that
# connectors use. Dotted entries allow only that subpackage (`databricks.sdk`, not
# `databricks.labs.community_connector`, which is this repo under upstream's name).
DATABRICKS_RUNTIME_MODULES = frozenset(
    {
        "pyspark",
        "py4j",
        "pyarrow",
        "pandas",
        "numpy",
        "requests",
        "urllib3",
        "certifi",
        "charset_normalizer",
        "idna",
        "pydantic",
        "typing_extensions",
        "dateutil",
        "pytz",
        "yaml",
        "six",
        "packaging",
        "cryptography",
        "jinja2",
        "markupsafe",
        "google.protobuf",
        "grpc",
        "boto3",
        "botocore",
        "databricks.sdk",
    }
)

# Distributions whose import names are not their project name.
IMPORT_NAMES = {
    "pyjwt": ("jwt",),
    "python-dateutil": ("dateutil",),
    "pyyaml": ("yaml",),
    "beautifulsoup4": ("bs4",),
    "protobuf": ("google.protobuf",),
    "scikit-learn": ("sklearn",),
    "pillow": ("PIL",),
    "google-auth": ("google.auth", "google.oauth2"),
}
# Namespace families: `azure-identity` is imported as `azure.identity`, `google-cloud-storage` as
# `google.cloud.storage`.
NAMESPACE_FAMILIES = ("google", "azure")


def _allowed(module: str, names: frozenset[str] | set[str]) -> bool:
    return any(module == name or module.startswith(name + ".") for name in names)


def import_names(distribution: str) -> set[str]:
    """The import names a distribution provides, as far as its name tells."""
    normalized = re.sub(r"[-_.]+", "-", distribution).lower()
    if normalized in IMPORT_NAMES:
        return set(IMPORT_NAMES[normalized])
    family, _, rest = normalized.partition("-")
    if family in NAMESPACE_FAMILIES and rest:
        return {f"{family}.{rest.replace('-', '.')}", f"{family}.{rest.replace('-', '_')}"}
    return {normalized.replace("-", "_")}


def declaration_files(source_dir: Path) -> list[Path]:
    """Where a connector declares its third-party requirements (either may be absent)."""
    return [source_dir / "requirements.txt", source_dir / "pyproject.toml"]


def _requirement_lines(source_dir: Path) -> list[tuple[str, str]]:
    """(requirement string, where) from requirements.txt and pyproject.toml's dependencies."""
    found: list[tuple[str, str]] = []
    requirements, pyproject = declaration_files(source_dir)
    if requirements.is_file():
        for number, line in enumerate(requirements.read_text().splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                found.append((line, f"{requirements.name}:{number}"))
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text()).get("project", {})
        groups = [
            project.get("dependencies", []),
            *project.get("optional-dependencies", {}).values(),
        ]
        found += [(r, pyproject.name) for group in groups for r in group]
    return found


def declared_modules(source_dir: Path) -> set[str]:
    """Import names the connector declares it needs (unparsable lines are skipped: pip reports
    them where they are used)."""
    modules: set[str] = set()
    for line, _where in _requirement_lines(source_dir):
        try:
            modules |= import_names(Requirement(line).name)
        except InvalidRequirement:
            continue
    return modules


def is_available(module: str, declared: set[str]) -> bool:
    """True when `module` will import on the cluster: stdlib, runtime, or declared."""
    top = module.split(".")[0]
    return (
        top in sys.stdlib_module_names
        or _allowed(module, DATABRICKS_RUNTIME_MODULES)
        or _allowed(module, declared)
    )
