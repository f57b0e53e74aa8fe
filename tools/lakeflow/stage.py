"""Stage: lay out `build/stage/<name>/` exactly as the deploy guide's Step 2 uploads it.

The stage is the single picture of what a deploy puts in the workspace; sync compares against it.
Files are written only when their content changes, so downstream hashes and mtimes stay put.
"""

from __future__ import annotations

import functools
import os
import pprint
from pathlib import Path

from libs import runtime_names
from tools.lakeflow import project

SHARED_STAGED = (
    "libs/runtime_names.py",
    "libs/source_loader.py",
    "libs/spec_parser.py",
    "libs/utils.py",
    "pipeline/ingestion_pipeline.py",
)
TEMPLATES_DIR = Path(__file__).parent / "templates"
INGEST_TEMPLATE = TEMPLATES_DIR / "ingest.py.j2"
_INGEST_TEMPLATE = str(INGEST_TEMPLATE)


def staged_copies(name: str, root: Path = project.REPO_ROOT) -> dict[str, Path]:
    """Staged relative path → repo file, for every file staged as a plain copy."""
    return {rel: Path(path) for rel, path in _copies(name, str(root)).items()}


def _copies(name: str, root: str) -> dict[str, str]:
    # Strings, not Paths: doit's task definition runs this for every source on every `doit`.
    src = f"{root}/sources/{name}"
    copies = dict(_shared_copies(root))
    for filename in ("__init__.py", runtime_names.generated_file_name(name), f"{name}.py"):
        copies[f"sources/{name}/{filename}"] = f"{src}/{filename}"
    hand_written_ingest = f"{src}/ingest.py"
    if os.path.isfile(hand_written_ingest):
        copies["ingest.py"] = hand_written_ingest
    return copies


@functools.cache
def _shared_copies(root: str) -> dict[str, str]:
    return {rel: f"{root}/{rel}" for rel in SHARED_STAGED}


def stage_inputs(name: str, root: Path = project.REPO_ROOT) -> list[Path]:
    """Every file the stage reads: doit's file_dep for `stage:<name>`."""
    return [Path(p) for p in stage_task_files(name, root)[0]]


def stage_task_files(name: str, root: Path = project.REPO_ROOT) -> tuple[list[str], list[str]]:
    """(file_dep, targets) of `stage:<name>` as sorted path strings, from one look at the source
    folder."""
    copies = _copies(name, str(root))
    inputs = set(copies.values())
    if "ingest.py" not in copies:
        inputs |= {f"{root}/sources/{name}/pipeline_spec.yaml", _INGEST_TEMPLATE}
    stage = f"{root}/build/stage/{name}"  # project.stage_dir, as a string
    return sorted(inputs), [f"{stage}/{rel}" for rel in sorted({*copies, "ingest.py"})]


def render_ingest(name: str, root: Path = project.REPO_ROOT) -> str:
    """ingest.py for the pipeline, rendered from sources/<name>/pipeline_spec.yaml."""
    from tools.lakeflow import specs  # the spec loader validates before anything is rendered

    settings = specs.load_pipeline_spec(name, root)
    import jinja2  # here: every `doit` imports this module, few render

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["pyrepr"] = lambda value: pprint.pformat(value, width=96, sort_dicts=False)
    spec = {"connection_name": settings.connection_name, "objects": settings.objects}
    return env.get_template(INGEST_TEMPLATE.name).render(
        source_name=name, pipeline_spec=spec, names=runtime_names
    )


def write_if_changed(path: Path, content: bytes) -> bool:
    if path.is_file() and path.read_bytes() == content:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def stage_source(name: str, root: Path = project.REPO_ROOT) -> dict[str, Path]:
    """Write the stage; return staged relative path → staged file. Stale files are removed."""
    stage = project.stage_dir(name, root)
    contents: dict[str, bytes] = {}
    for rel, repo_file in staged_copies(name, root).items():
        if not repo_file.is_file():
            generated = repo_file.name.startswith(runtime_names.GENERATED_FILE_PREFIX)
            hint = f" (run `doit merge:{name}`)" if generated else ""
            raise FileNotFoundError(f"{repo_file.relative_to(root)}: missing{hint}")
        contents[rel] = repo_file.read_bytes()
    if "ingest.py" not in contents:
        contents["ingest.py"] = render_ingest(name, root).encode()

    for rel, content in contents.items():
        write_if_changed(stage / rel, content)
    for existing in sorted(stage.rglob("*"), reverse=True):
        rel = existing.relative_to(stage).as_posix()
        if existing.is_file() and rel not in contents:
            existing.unlink()
        elif existing.is_dir() and not any(existing.iterdir()):
            existing.rmdir()
    return {rel: stage / rel for rel in sorted(contents)}


def staged_files(name: str, root: Path = project.REPO_ROOT) -> dict[str, Path]:
    """The current stage: relative path → file. Deploy syncs exactly this."""
    stage = project.stage_dir(name, root)
    if not (stage / "ingest.py").is_file():
        raise FileNotFoundError(f"{stage.relative_to(root)} is empty; run `doit stage:{name}`")
    return {p.relative_to(stage).as_posix(): p for p in sorted(stage.rglob("*")) if p.is_file()}
