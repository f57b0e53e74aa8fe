"""The AST merge, on small fixture repos built per test, plus the real connectors."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from tools.lakeflow import merge, project
from tools.lakeflow.errors import LakeflowError

DATA_SOURCE = """
from libs.helpers import describe


def register_connector(spark, connector_class):
    spark.dataSource.register((connector_class, describe(connector_class)))
"""
HELPERS = """
def describe(cls):
    return cls.__name__
"""
INTERFACE = """
class LakeflowConnect:
    def __init__(self, options):
        self.options = options
"""


def make_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    base = {
        "pipeline/lakeflow_python_source.py": DATA_SOURCE,
        "libs/helpers.py": HELPERS,
        "sources/interface/lakeflow_connect.py": INTERFACE,
    }
    for rel, text in {**base, **files}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return tmp_path


class FakeSpark:
    """Stands in for a SparkSession: records what the merged code registers."""

    def __init__(self):
        self.registered = []
        self.dataSource = self

    def register(self, item):
        self.registered.append(item)


def run_merged(text: str):
    namespace: dict = {}
    exec(compile(text, "<merged>", "exec"), namespace)
    spark = FakeSpark()
    namespace["register_lakeflow_source"](spark)
    return spark.registered


def connector(body: str = "", header: str = "") -> str:
    return (
        header
        + """
from sources.interface.lakeflow_connect import LakeflowConnect

class DemoConnect(LakeflowConnect):
    def list_tables(self):
        return ["t"]
"""
        + body
    )


def test_merged_file_runs_and_registers_the_connector_class(tmp_path):
    root = make_repo(tmp_path, {"sources/demo/demo.py": connector()})
    result = merge.merge_source("demo", root)
    assert result.connector_class == "DemoConnect"
    ((cls, description),) = run_merged(result.text)
    assert cls.__name__ == "DemoConnect" and description == "DemoConnect"
    assert cls({"a": "1"}).list_tables() == ["t"]
    tree = ast.parse(result.text)
    top_imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert all(not merge._is_project(ast.unparse(n).split()[1]) for n in top_imports)


def test_imports_after_try_except_and_under_type_checking_are_hoisted(tmp_path):
    source = connector(
        header="""
from __future__ import annotations
import os
try:
    import tomllib as toml_reader
except ImportError:
    import json as toml_reader
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from collections.abc import Iterator
    from libs.helpers import describe
X = 1
import json as js
""",
        body="""
    def encode(self, value) -> Iterator:
        return js.dumps(value), toml_reader.__name__, os.sep
""",
    )
    root = make_repo(tmp_path, {"sources/demo/demo.py": source})
    text = merge.merge_source("demo", root).text
    lines = text.splitlines()
    assert lines[2] == "from __future__ import annotations"
    header = text.split("def register_lakeflow_source")[0]
    assert "import json as js" in header and "import os" in header
    assert "import tomllib as toml_reader" in header and "if TYPE_CHECKING:" in header
    assert "from collections.abc import Iterator" in header
    assert "libs.helpers" not in text
    ((cls, _),) = run_merged(text)
    assert cls({}).encode([1])[0] == "[1]"


def test_aliases_of_dropped_project_imports_are_rebound(tmp_path):
    source = connector(
        header="""
from libs.helpers import describe as say
from libs import helpers as h
import libs.helpers as hh
""",
        body="""
    def names(self):
        return say(int), h.describe(str), hh.describe(float)
""",
    )
    root = make_repo(tmp_path, {"sources/demo/demo.py": source})
    ((cls, _),) = run_merged(merge.merge_source("demo", root).text)
    assert cls({}).names() == ("int", "str", "float")


def test_third_party_imports_are_kept_once(tmp_path):
    files = {
        "sources/demo/demo.py": connector(header="import json\nfrom os import path, sep\n"),
        "libs/helpers.py": "import json\nfrom os import sep, path\n" + HELPERS,
    }
    text = merge.merge_source("demo", make_repo(tmp_path, files)).text
    assert text.count("import json\n") == 1
    assert text.count("from os import path, sep\n") == 1


def test_several_bases_and_relative_imports_across_connector_modules(tmp_path):
    files = {
        "sources/demo/demo.py": """
from sources.interface.lakeflow_connect import LakeflowConnect
from .client import Client
from . import schemas


class Mixin:
    def mixed(self):
        return "mixin"


class DemoConnect(Mixin, LakeflowConnect):
    def list_tables(self):
        return schemas.TABLES + [Client().name()]
""",
        "sources/demo/client.py": """
from .auth import token


class Client:
    def name(self):
        return "client-" + token()
""",
        "sources/demo/auth.py": """
def token():
    return "t"
""",
        "sources/demo/schemas.py": """
TABLES = ["a", "b"]
""",
        "sources/demo/test/test_ignored.py": "import this_is_not_merged\n",
    }
    result = merge.merge_source("demo", make_repo(tmp_path, files))
    order = [p.name for p in result.modules]
    assert order.index("auth.py") < order.index("client.py") < order.index("demo.py")
    assert order.index("schemas.py") < order.index("demo.py")
    assert "test_ignored.py" not in order
    ((cls, _),) = run_merged(result.text)
    instance = cls({})
    assert instance.list_tables() == ["a", "b", "client-t"] and instance.mixed() == "mixin"


def test_an_import_cycle_names_the_files(tmp_path):
    files = {
        "sources/demo/demo.py": connector(header="from .first import a\n"),
        "sources/demo/first.py": "from .second import b\n\ndef a():\n    return b\n",
        "sources/demo/second.py": "from .first import a\n\ndef b():\n    return a\n",
    }
    with pytest.raises(LakeflowError, match="import cycle") as error:
        merge.merge_source("demo", make_repo(tmp_path, files))
    assert "sources/demo/first.py" in str(error.value)
    assert "sources/demo/second.py" in str(error.value)


def test_a_syntax_error_names_file_and_line(tmp_path):
    files = {"sources/demo/demo.py": connector(body="\n    def broken(:\n        pass\n")}
    with pytest.raises(LakeflowError, match=r"sources/demo/demo\.py:\d+") as error:
        merge.merge_source("demo", make_repo(tmp_path, files))
    assert "syntax error" in str(error.value)


def test_the_same_top_level_name_in_two_modules_is_an_error(tmp_path):
    files = {"sources/demo/demo.py": connector(body="\ndef describe(x):\n    return x\n")}
    with pytest.raises(LakeflowError, match="'describe' is defined in both"):
        merge.merge_source("demo", make_repo(tmp_path, files))


def test_no_connector_class_is_an_error(tmp_path):
    files = {"sources/demo/demo.py": "class Nothing:\n    pass\n"}
    with pytest.raises(LakeflowError, match="exactly one class"):
        merge.merge_source("demo", make_repo(tmp_path, files))


def test_output_is_byte_identical_and_an_unchanged_file_is_not_rewritten(tmp_path):
    root = make_repo(tmp_path, {"sources/demo/demo.py": connector()})
    assert merge.merge_source("demo", root).text == merge.merge_source("demo", root).text
    assert merge.write_merged("demo", root) is True
    generated = project.generated_file("demo", root)
    before = generated.stat()
    assert merge.write_merged("demo", root) is False
    after = generated.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_the_validation_rejects_project_imports_and_duplicate_register_functions():
    with pytest.raises(LakeflowError, match="still imports this repo.s module"):
        merge.check_merged_text(
            "def register_lakeflow_source(spark):\n    from libs import utils\n", "x.py"
        )
    with pytest.raises(LakeflowError, match="2 times"):
        merge.check_merged_text(
            "def register_lakeflow_source(spark): pass\ndef register_lakeflow_source(spark): pass\n",
            "x.py",
        )
    with pytest.raises(LakeflowError, match="does not compile"):
        merge.check_merged_text("def register_lakeflow_source(spark:\n", "x.py")


@pytest.mark.parametrize("name", project.source_names())
def test_every_connector_merges_and_its_committed_file_is_current(name):
    result = merge.merge_source(name)
    merge.check_merged_text(result.text, name)
    assert project.generated_file(name).read_text() == result.text, (
        f"sources/{name}/_generated_{name}_python_source.py is stale: run `doit merge:{name}`"
    )
