"""Every name the cluster runtime and the build engine must agree on, defined once.

Merged into every generated file (the data source imports it) and staged beside the pipeline, so it
is importable on the cluster; the engine, its templates (through their render context) and the
tests import it from here.
"""

from __future__ import annotations

# The PySpark data source, and the special table that returns one metadata row per table.
DATA_SOURCE_NAME = "lakeflow_connect"
METADATA_TABLE = "_lakeflow_metadata"
# Upstream's name for the same table (its pipelines still read it); accepted as an alias.
UPSTREAM_METADATA_TABLE = "_community_table_metadata"

# What a table is read as when its metadata leaves ingestion_type out (upstream's default).
DEFAULT_INGESTION_TYPE = "cdc"

# Upstream's virtual tables of a connector's namespace tree (SupportsNamespaces), and their options.
NAMESPACES_TABLE = "_community_namespaces"
TABLES_TABLE = "_community_tables"
OPTION_NAMESPACE_PREFIX = "namespacePrefix"
OPTION_NAMESPACE = "namespace"

# Options the data source reads itself (Spark lower-cases option names; compare lower-cased).
OPTION_TABLE_NAME = "tableName"
OPTION_TABLE_NAME_LIST = "tableNameList"
OPTION_TABLE_CONFIGS = "tableConfigs"
OPTION_IS_DELETE_FLOW = "isDeleteFlow"
OPTION_CONNECTION = "databricks.connection"
DATA_SOURCE_OPTIONS = (
    OPTION_TABLE_NAME,
    OPTION_TABLE_NAME_LIST,
    OPTION_TABLE_CONFIGS,
    OPTION_IS_DELETE_FLOW,
)

# The generated single-file module of a source, and the function it defines.
GENERATED_FILE_PREFIX = "_generated_"
GENERATED_FILE_PATTERN = GENERATED_FILE_PREFIX + "{name}_python_source.py"
REGISTER_FUNCTION = "register_lakeflow_source"

# How a connector class is found: in `sources/<name>/<name>.py`, the one class that derives from
# the interface class, or (upstream's flat layout) the one class named like it.
CONNECTOR_INTERFACE = "LakeflowConnect"


def generated_file_name(source_name: str) -> str:
    return GENERATED_FILE_PATTERN.format(name=source_name)


def is_connector_class(class_name: str, base_names: list[str]) -> bool:
    """The connector-class rule, on names, so the merge (on the AST: the bases written) and code
    that imports the module (on class objects: every ancestor) decide alike."""
    bases = [b for b in base_names if b != "object"]
    return CONNECTOR_INTERFACE in bases or (class_name == CONNECTOR_INTERFACE and not bases)
