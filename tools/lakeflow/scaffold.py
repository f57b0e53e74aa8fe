"""`doit new --name <source>`: a new connector from the templates in templates/scaffold/.

It creates a working connector over a simulator stub (so its generated test passes and it merges,
stages and deploys at once), with TODOs where the real API goes. A name that is not a lower-case
Python identifier, is a keyword, or is already taken is refused.
"""

from __future__ import annotations

import keyword
import re
import sys
from pathlib import Path

from libs import runtime_names
from tools.lakeflow import project
from tools.lakeflow.errors import LakeflowError

SCAFFOLD = Path(__file__).parent / "templates" / "scaffold"
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# template → path inside sources/<name>/
FILES = {
    "connector.py.j2": "{name}.py",
    "connector_spec.yaml.j2": "connector_spec.yaml",
    "pipeline_spec.yaml.j2": "pipeline_spec.yaml",
    "README.md.j2": "README.md",
    "test/simulator.py.j2": "test/simulator.py",
    "test/test_connector.py.j2": "test/test_{name}_lakeflow_connect.py",
    "test/spark_case.py.j2": "test/spark_case.py",
}
EMPTY_FILES = ("__init__.py", "test/__init__.py", "requirements.txt")
# Top-level packages of the project and of what every connector imports at runtime: a source
# named like one would be imported in its place (`sources/<name>/` is on the path in a pipeline).
SHADOWED_PACKAGES = {"libs", "pipeline", "sources", "tools", "tests", "pyspark", "requests", "yaml"}
RESERVED = {"test": "every connector's tests live in its `test` package"}


def check_name(name: str, root: Path = project.REPO_ROOT) -> None:
    if not name:
        raise LakeflowError(
            "give the new source a name: `doit new --name <source>`", field="--name"
        )
    if not NAME.match(name) or keyword.iskeyword(name):
        raise LakeflowError(
            f"{name!r} is not a lower-case Python identifier (letters, digits, _)", field="--name"
        )
    if name in sys.stdlib_module_names:
        raise LakeflowError(
            f"{name!r} is a standard-library module; a source of that name would shadow it",
            field="--name",
        )
    if name in RESERVED:
        raise LakeflowError(f"{name!r} is reserved: {RESERVED[name]}", field="--name")
    if name in SHADOWED_PACKAGES:
        raise LakeflowError(
            f"{name!r} is a package the project imports; a source of that name would shadow it",
            field="--name",
        )
    if project.source_dir(name, root).exists() or name in project.NOT_SOURCES:
        raise LakeflowError(f"sources/{name} already exists", field="--name")


def create_source(name: str, root: Path = project.REPO_ROOT) -> list[Path]:
    check_name(name, root)
    camel = "".join(part.capitalize() for part in name.split("_"))
    context = {
        "name": name,
        "camel": camel,
        "title": " ".join(part.capitalize() for part in name.split("_")),
        "class_name": f"{camel}{runtime_names.CONNECTOR_INTERFACE}",
        "prefix": name.upper(),
        "names": runtime_names,
    }
    import jinja2  # here: every `doit` imports this module, `doit new` alone renders

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SCAFFOLD),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    target = project.source_dir(name, root)
    written = []
    for template, rel in FILES.items():
        path = target / rel.format(name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(env.get_template(template).render(**context))
        written.append(path)
    for rel in EMPTY_FILES:
        (target / rel).write_text("requests>=2.31\n" if rel == "requirements.txt" else "")
        written.append(target / rel)
    return written


def new_source(name: str = "") -> None:
    written = create_source(name)
    print(f"created sources/{name}/ ({len(written)} files); next: `doit merge:{name}`, "
          f"`nox -s \"test({name})\"`, then replace the TODOs")  # fmt: skip
