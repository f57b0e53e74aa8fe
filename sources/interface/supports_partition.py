"""Partitioned reads: mixins a connector adds beside LakeflowConnect to be read in parallel.

The data source turns each partition descriptor into one Spark input partition, so the partitions
of a table are read on as many executors as Spark has. Descriptors travel as JSON: plain dicts of
strings, numbers, booleans and lists.

- `SupportsPartition`: batch reads. The driver calls `get_partitions` once; every executor calls
  `read_partition` for the descriptors it was given.
- `SupportsPartitionedStream`: streaming too. For each micro-batch the driver asks `latest_offset`
  how far the source reaches, then `get_partitions(start, end)` splits that range; Spark
  checkpoints the offsets, so a restarted stream resumes after the last committed one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence


class SupportsPartition(ABC):
    @abstractmethod
    def get_partitions(self, table_name: str, table_options: dict[str, str]) -> Sequence[dict]:
        """Descriptors that together cover the whole table (runs on the driver)."""

    @abstractmethod
    def read_partition(
        self, table_name: str, partition: dict, table_options: dict[str, str]
    ) -> Iterator[dict]:
        """The records of one descriptor (runs on an executor, so it must not rely on state the
        driver built after construction)."""


class SupportsPartitionedStream(SupportsPartition):
    def is_partitioned(self, table_name: str) -> bool:
        """False sends this table through the ordinary `read_table` stream instead."""
        return True

    @abstractmethod
    def latest_offset(
        self, table_name: str, table_options: dict[str, str], start_offset: dict | None = None
    ) -> dict:
        """The furthest offset a micro-batch starting at `start_offset` ({} at first) may read
        to. Returning `start_offset` means there is nothing new; batch sizing is up to the
        connector (through its table options)."""

    @abstractmethod
    def get_partitions(
        self,
        table_name: str,
        table_options: dict[str, str],
        start_offset: dict | None = None,
        end_offset: dict | None = None,
    ) -> Sequence[dict]:
        """Descriptors covering (start_offset, end_offset]; both None for a batch read of the
        whole table, and an empty sequence when start equals end."""
