"""Namespaces: a mixin for connectors whose tables live in a tree (organisation → project → ...).

A namespace is a list of path segments; `[]` is the root. A connector without this mixin is flat:
every table from `list_tables` sits at the root.
"""

from __future__ import annotations

from abc import ABC, abstractmethod


class SupportsNamespaces(ABC):
    @abstractmethod
    def list_namespaces(self, prefix: list[str] | None = None) -> list[list[str]]:
        """The child namespaces one level below `prefix` (None or [] is the root), each as its
        full path; tables are listed separately by `list_tables_in_namespace`."""

    @abstractmethod
    def list_tables_in_namespace(self, namespace: list[str]) -> list[str]:
        """The tables directly inside `namespace` (`[]` for root-level tables)."""
