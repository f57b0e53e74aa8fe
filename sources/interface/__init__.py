"""The connector interface: the base class and the optional mixins, importable from one place."""

from sources.interface.lakeflow_connect import LakeflowConnect
from sources.interface.supports_namespaces import SupportsNamespaces
from sources.interface.supports_partition import SupportsPartition, SupportsPartitionedStream

__all__ = [
    "LakeflowConnect",
    "SupportsNamespaces",
    "SupportsPartition",
    "SupportsPartitionedStream",
]
