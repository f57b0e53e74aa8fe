"""Fixtures of the unit layer: a minimal repo on disk and deploy contexts without a workspace.

Nothing here starts a server or a subprocess. Live state comes from fakes of the live-state
readers (`core.list_folder` and friends), never from a mocked SDK client.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools.lakeflow import core, specs
from tools.lakeflow.context import DeployContext
from tools.lakeflow.targets import Target

CONNECTOR_SPEC = """\
connection:
  parameters:
    - name: api_key
      required: true
      secret: true
    - name: region
      default: eu
    - name: page
external_options_allowlist: "page_size, filter"
"""

PIPELINE_SPEC = """\
connection_name: demo_connection
destination:
  catalog: cat
pipeline:
  development: false
  channel: PREVIEW
  configuration: {a: "1"}
objects:
  - table:
      source_table: users
      table_configuration:
        scd_type: SCD_TYPE_2
        page_size: "10"
  - table:
      source_table: events
      destination_table: demo_events
"""


class Repo:
    """A throwaway repo root holding one source, `demo`, and whatever files a test writes."""

    def __init__(self, root: Path):
        self.root = root
        self.write("sources/interface/__init__.py", "")
        self.write("sources/demo/demo.py", "class Demo: ...\n")
        self.write("sources/demo/connector_spec.yaml", CONNECTOR_SPEC)
        self.write("sources/demo/pipeline_spec.yaml", PIPELINE_SPEC)

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    def edit(self, rel: str, old: str, new: str) -> None:
        path = self.root / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new))


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path)


@pytest.fixture
def session(repo: Repo) -> core.Session:
    """A session on a local target whose user is already known (so no client is ever built)."""
    made = core.Session(Target(name="local", kind="local"), repo.root)
    made.state.data["user_name"] = "jane.doe@example.com"
    return made


@pytest.fixture
def ctx(repo: Repo, session: core.Session) -> DeployContext:
    return DeployContext(
        name="demo",
        session=session,
        pipeline=specs.load_pipeline_spec("demo", repo.root),
        connector=specs.load_connector_spec("demo", repo.root),
        options={"api_key": "k", "sourceName": "demo"},
        secret_names={"api_key"},
    )
