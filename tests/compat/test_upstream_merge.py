"""Connectors in upstream's layouts merge unedited, and every merge error names file and line.

The fixtures (tests/compat/fixtures/) are merged in a scratch repo here without Spark; the same
fixtures are read in real Spark by tests/spark/test_upstream_fixtures_in_spark.py.
"""

from __future__ import annotations

import ast
import sys
import threading
import types

import pytest
from pyspark import cloudpickle

from tests.compat.scratch_repo import FIXTURE_NAMES, scratch_repo
from tools.lakeflow import merge
from tools.lakeflow.errors import LakeflowError


class LockedSpark:
    """Records registrations; holds a lock, so pickling anything that captured it fails."""

    def __init__(self):
        self.registered = []
        self.dataSource = self
        self.lock = threading.Lock()

    def register(self, item):
        self.registered.append(item)


def load(text: str, name: str):
    """Exec a merged file as a module and register it; returns the registered data source."""
    module = types.ModuleType(f"merged_{name}")
    sys.modules[module.__name__] = module  # as an import would: dataclasses look it up
    exec(compile(text, f"{name}.py", "exec"), module.__dict__)
    spark = LockedSpark()
    module.register_lakeflow_source(spark)
    (registered,) = spark.registered
    return registered


def header(text: str) -> list[str]:
    return [
        ast.unparse(n) for n in ast.parse(text).body if isinstance(n, (ast.Import, ast.ImportFrom))
    ]


def merged(tmp_path, name: str) -> str:
    return merge.merge_source(name, scratch_repo(tmp_path, [name])).text


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_upstream_fixture_merges_compiles_and_registers(tmp_path, name):
    result = merge.merge_source(name, scratch_repo(tmp_path, [name]))
    assert result.upstream, "upstream layouts run under upstream's runtime protocol"
    data_source = load(result.text, name)
    assert data_source.upstream is True
    assert data_source.connector_class.__name__ == result.connector_class
    connector = data_source.connector_class({"item_count": "2"})
    assert "items" in connector.list_tables()
    assert "return register(spark, connector, upstream=True)" in result.text


def test_this_repos_connectors_keep_this_repos_protocol(tmp_path):
    files = {
        "sources/demo/demo.py": """
            from sources.interface.lakeflow_connect import LakeflowConnect

            class DemoLakeflowConnect(LakeflowConnect):
                pass
            """
    }
    result = merge.merge_source("demo", scratch_repo(tmp_path, files=files))
    assert not result.upstream
    assert load(result.text, "demo").upstream is False


def test_flat_layout_class_named_lakeflow_connect_is_the_connector(tmp_path):
    result = merge.merge_source("upstream_flat", scratch_repo(tmp_path, ["upstream_flat"]))
    assert result.connector_class == "LakeflowConnect"


def test_package_init_glue_is_not_merged(tmp_path):
    text = merged(tmp_path, "upstream_package")
    assert "sparkpds" not in text and "UpstreamPackageDataSource" not in text
    assert "databricks.labs" not in text
    assert "def make_items" in text and "ITEMS_SCHEMA =" in text  # the sibling modules


def test_a_third_party_star_import_stays_a_star_import_before_explicit_ones(tmp_path):
    lines = header(merged(tmp_path, "star_import"))
    assert lines.count("from pyspark.sql.types import *") == 1
    explicit = next(
        i for i, line in enumerate(lines) if line.startswith("from pyspark.sql.types import A")
    )
    assert lines.index("from pyspark.sql.types import *") < explicit


def test_equivalent_imports_are_bound_once(tmp_path):
    text = merged(tmp_path, "equivalent_imports")
    bound = [
        a.asname or a.name
        for n in ast.parse(text).body
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in n.names
    ]
    assert bound.count("Iterator") == 1 and bound.count("ET") == 1
    connector = load(text, "equivalent_imports").connector_class({"item_count": "2"})
    records, offset = connector.read_table("items", None, {})
    assert [r["name"] for r in records] == ["item-1", "item-2"] and offset == {"cursor": 20}


def test_identical_top_level_statements_are_kept_once(tmp_path):
    text = merged(tmp_path, "identical_statements")
    assert text.count("logger = logging.getLogger(__name__)") == 1
    assert text.count("PAGE_SIZE = 2") == 1
    assert text.count("def _text(") == 1  # the two differ only in their docstrings


def test_spark_is_not_in_the_scope_connector_classes_are_defined_in(tmp_path):
    data_source = load(merged(tmp_path, "pydantic_models"), "pydantic_models")
    connector = data_source.connector_class({"item_count": "2"})
    # Pydantic keeps the defining scope; with `spark` (and its lock) in it, this would fail.
    restored = cloudpickle.loads(cloudpickle.dumps(connector))
    records, _ = restored.read_table("items", None, {})
    assert [r["id"] for r in records] == [1, 2]
    cloudpickle.dumps(data_source)


DEMO_CLASS = """
from sources.interface.lakeflow_connect import LakeflowConnect


class DemoLakeflowConnect(LakeflowConnect):
    pass
"""

# (files, the message's text, where): every merge error names the file and the line.
MERGE_ERRORS = {
    "upstream glue has no equivalent": (
        {
            "sources/demo/demo.py": "from databricks.labs.community_connector.sparkpds import LakeflowSource\n"
            + DEMO_CLASS
        },
        "`LakeflowSource` from `databricks.labs.community_connector.sparkpds` has no equivalent",
        "sources/demo/demo.py:1",
    ),
    "an upstream interface symbol this repo lacks": (
        {
            "sources/demo/demo.py": "\nfrom databricks.labs.community_connector.interface import AgentError\n"
            + DEMO_CLASS
        },
        "`AgentError` has no equivalent in this repo: sources/interface/__init__.py does not define it",
        "sources/demo/demo.py:2",
    ),
    "one name imported as two objects": (
        {
            "sources/demo/demo.py": "from sources.demo.helper import X\nfrom json import loads as decode\n"
            + DEMO_CLASS,
            "sources/demo/helper.py": "from pickle import loads as decode\nX = 1\n",
        },
        "`decode` is imported as pickle.loads at sources/demo/helper.py:1 and as json.loads",
        "sources/demo/demo.py:2",
    ),
    "one name defined twice": (
        {
            "sources/demo/demo.py": "from sources.demo.helper import X\nPAGE_SIZE = 2\n"
            + DEMO_CLASS,
            "sources/demo/helper.py": "PAGE_SIZE = 1\nX = 1\n",
        },
        "'PAGE_SIZE' is defined in both sources/demo/helper.py:1 and sources/demo/demo.py:2",
        "sources/demo/demo.py:2",
    ),
    "one name defined and imported": (
        {
            "sources/demo/demo.py": "from sources.demo.helper import X\nfrom json import loads\n"
            + DEMO_CLASS,
            "sources/demo/helper.py": "def loads(text):\n    return text\nX = 1\n",
        },
        "`loads` is defined at sources/demo/helper.py:1 and imported at sources/demo/demo.py:2",
        "sources/demo/demo.py:2",
    ),
    "a project import inside a function": (
        {
            "sources/demo/demo.py": DEMO_CLASS
            + "\n\ndef f():\n    from libs.utils import parse_value\n"
        },
        "inside a function or class cannot be merged",
        "sources/demo/demo.py:10",
    ),
    "an upstream-named import inside a function": (
        {
            "sources/demo/demo.py": DEMO_CLASS
            + "\n\ndef f():\n    import databricks.labs.community_connector.libs.utils\n"
        },
        "inside a function or class cannot be merged",
        "sources/demo/demo.py:10",
    ),
    "a relative import inside a function": (
        {"sources/demo/demo.py": DEMO_CLASS + "\n\ndef f():\n    from . import helper\n"},
        "inside a function or class cannot be merged",
        "sources/demo/demo.py:10",
    ),
    "an undeclared third-party module": (
        {"sources/demo/demo.py": "import jwt\n" + DEMO_CLASS},
        "`jwt` is neither in the Databricks runtime nor declared in sources/demo/requirements.txt",
        "sources/demo/demo.py:1",
    ),
    "an undeclared third-party module inside a function": (
        {"sources/demo/demo.py": DEMO_CLASS + "\n\ndef f():\n    import azure.identity\n"},
        "`azure.identity` is neither in the Databricks runtime nor declared",
        "sources/demo/demo.py:10",
    ),
    "a star import from this repo": (
        {"sources/demo/demo.py": "from libs.utils import *\n" + DEMO_CLASS},
        "`import *` from a project module cannot be merged",
        "sources/demo/demo.py:1",
    ),
    "a plain import of this repo's module": (
        {"sources/demo/demo.py": "import libs.utils\n" + DEMO_CLASS},
        "`import libs.utils` cannot be merged",
        "sources/demo/demo.py:1",
    ),
    "a module that does not exist": (
        {"sources/demo/demo.py": "from libs.nothing import x\n" + DEMO_CLASS},
        "cannot find module libs.nothing",
        "sources/demo/demo.py:1",
    ),
    "a relative import above the repo": (
        {"sources/demo/demo.py": "from .... import x\n" + DEMO_CLASS},
        "relative import goes above the repo",
        "sources/demo/demo.py:1",
    ),
    "code under TYPE_CHECKING": (
        {
            "sources/demo/demo.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    X = 1\n"
            + DEMO_CLASS
        },
        "only imports may stand under `if TYPE_CHECKING:`",
        "sources/demo/demo.py:2",
    ),
    "a syntax error": (
        {"sources/demo/demo.py": DEMO_CLASS + "\ndef broken(:\n    pass\n"},
        "syntax error",
        "sources/demo/demo.py:8",
    ),
    "an import cycle": (
        {
            "sources/demo/demo.py": "from sources.demo.first import a\n" + DEMO_CLASS,
            "sources/demo/first.py": "\nfrom sources.demo.second import b\n\ndef a():\n    return b\n",
            "sources/demo/second.py": "from sources.demo.first import a\n\ndef b():\n    return a\n",
        },
        "import cycle: sources/demo/first.py -> sources/demo/second.py -> sources/demo/first.py",
        "sources/demo/first.py:2",
    ),
    "no connector class": (
        {"sources/demo/demo.py": "class Nothing:\n    pass\n"},
        "expected exactly one class deriving from LakeflowConnect",
        "sources/demo/demo.py:1",
    ),
    "two connector classes": (
        {"sources/demo/demo.py": DEMO_CLASS + "\n\nclass Other(LakeflowConnect):\n    pass\n"},
        "found DemoLakeflowConnect (line 5), Other (line 9)",
        "sources/demo/demo.py:9",
    ),
}


@pytest.mark.parametrize("case", MERGE_ERRORS, ids=list(MERGE_ERRORS))
def test_every_merge_error_names_file_and_line(tmp_path, case):
    files, message, where = MERGE_ERRORS[case]
    with pytest.raises(LakeflowError) as error:
        merge.merge_source("demo", scratch_repo(tmp_path, files=files))
    assert message in error.value.message
    assert error.value.file == where


@pytest.mark.parametrize(
    "declaration",
    [
        {"sources/demo/requirements.txt": "PyJWT>=2.8  # tokens\n"},
        {"sources/demo/pyproject.toml": '[project]\ndependencies = ["PyJWT[crypto]>=2.8,<3"]\n'},
    ],
    ids=["requirements.txt", "pyproject.toml"],
)
def test_a_declared_third_party_module_is_accepted(tmp_path, declaration):
    files = {"sources/demo/demo.py": "import jwt\n" + DEMO_CLASS, **declaration}
    assert "import jwt" in merge.merge_source("demo", scratch_repo(tmp_path, files=files)).text


def test_an_optional_import_needs_no_declaration(tmp_path):
    source = "try:\n    import azure.identity\nexcept ImportError:\n    azure = None\n" + DEMO_CLASS
    files = {"sources/demo/demo.py": source}
    assert (
        "import azure.identity"
        in merge.merge_source("demo", scratch_repo(tmp_path, files=files)).text
    )


REGISTER = "def register_lakeflow_source(spark):\n    pass\n"
FINAL_CHECK_ERRORS = {
    "relative import": (REGISTER + "from . import x\n", "relative import '.'", "x.py:3"),
    "sources.": (
        REGISTER + "import sources.github.github\n",
        "this repo's module 'sources.github",
        "x.py:3",
    ),
    "libs.": (
        REGISTER + "from libs.utils import parse_value\n",
        "this repo's module 'libs.utils'",
        "x.py:3",
    ),
    "pipeline.": (
        REGISTER + "import pipeline.ingestion_pipeline\n",
        "this repo's module 'pipeline.",
        "x.py:3",
    ),
    "tools.": (
        REGISTER + "from tools.lakeflow import merge\n",
        "this repo's module 'tools.lakeflow'",
        "x.py:3",
    ),
    "upstream name": (
        REGISTER + "from databricks.labs.community_connector.libs import utils\n",
        "this repo's module 'databricks.labs.community_connector.libs'",
        "x.py:3",
    ),
    "undeclared third party": (
        REGISTER + "import jwt\n",
        "imports 'jwt', which is neither",
        "x.py:3",
    ),
    "does not compile": ("def register_lakeflow_source(spark:\n", "does not compile", "x.py:1"),
    "register function twice": (
        REGISTER + REGISTER,
        "defines register_lakeflow_source 2 times",
        "x.py:3",
    ),
}


@pytest.mark.parametrize("case", FINAL_CHECK_ERRORS, ids=list(FINAL_CHECK_ERRORS))
def test_the_final_check_rejects_files_that_cannot_load(case):
    text, message, where = FINAL_CHECK_ERRORS[case]
    with pytest.raises(LakeflowError) as error:
        merge.check_merged_text(text, "x.py", declared=set())
    assert message in error.value.message
    assert error.value.file == where


def test_the_final_check_accepts_runtime_declared_and_optional_modules():
    text = (
        REGISTER
        + "import requests\nimport pydantic\nimport jwt\ntry:\n    import azure.identity\nexcept ImportError:\n    pass\n"
    )
    merge.check_merged_text(text, "x.py", declared={"jwt"})
