"""A keyed record collection that remembers when each record changed and which were deleted.

Simulators keep their vendor's records here; tests add, update and delete between reads and the
routes answer "changed since" and "deleted since" queries from the timestamps kept here.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tools.simulator.clock import SimClock, parse_time

# Called on every add/update/delete with (record, when, event) so a simulator can stamp its
# vendor's fields, e.g. record["updated_at"] = iso(when). event is "add", "update" or "delete".
ChangeHook = Callable[[dict, datetime, str], None]


@dataclass(frozen=True)
class Tombstone:
    key: Any
    record: dict
    deleted_at: datetime


class Collection:
    def __init__(
        self,
        clock: SimClock,
        *,
        key: str = "id",
        on_change: ChangeHook | None = None,
        lock: threading.RLock | None = None,
    ):
        self.clock = clock
        self.key = key
        self.on_change = on_change
        self.lock = lock or threading.RLock()
        self._records: dict[Any, dict] = {}
        self._modified: dict[Any, datetime] = {}
        self._tombstones: dict[Any, Tombstone] = {}

    def _when(self, at: datetime | str | None) -> datetime:
        return self.clock.tick() if at is None else parse_time(at)

    def add(self, record: dict, *, at: datetime | str | None = None) -> dict:
        """Insert a record (it must carry its key). `at` defaults to a fresh clock tick."""
        if self.key not in record:
            raise KeyError(f"record has no {self.key!r}: {record!r}")
        with self.lock:
            key = record[self.key]
            if key in self._records:
                raise KeyError(f"duplicate {self.key} {key!r}")
            when = self._when(at)
            if self.on_change:
                self.on_change(record, when, "add")
            self._records[key] = record
            self._modified[key] = when
            self._tombstones.pop(key, None)
            return record

    def update(
        self, key: Any, changes: dict | None = None, *, at: datetime | str | None = None, **fields
    ) -> dict:
        with self.lock:
            record = self._records[key]
            record.update(changes or {})
            record.update(fields)
            when = self._when(at)
            if self.on_change:
                self.on_change(record, when, "update")
            self._modified[key] = when
            return record

    def delete(self, key: Any, *, at: datetime | str | None = None) -> Tombstone:
        with self.lock:
            record = self._records.pop(key)
            del self._modified[key]
            when = self._when(at)
            if self.on_change:
                self.on_change(record, when, "delete")
            tomb = Tombstone(key, record, when)
            self._tombstones[key] = tomb
            return tomb

    def get(self, key: Any) -> dict:
        with self.lock:
            return self._records[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._records

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[dict]:
        return iter(self.values())

    def values(self) -> list[dict]:
        """Records in insertion order (a snapshot: safe to iterate while others mutate)."""
        with self.lock:
            return list(self._records.values())

    def snapshot(self, key: Any) -> dict:
        """A deep copy, for tests that compare before/after."""
        with self.lock:
            return copy.deepcopy(self._records[key])

    def modified_at(self, key: Any) -> datetime:
        return self._modified[key]

    def changed_since(
        self, since: datetime | str | None = None, *, inclusive: bool = True
    ) -> list[dict]:
        """Records modified at/after `since`, oldest change first (ties by key)."""
        with self.lock:
            keys = list(self._records)
            if since is not None:
                bound = parse_time(since)
                keys = [
                    k
                    for k in keys
                    if self._modified[k] > bound or (inclusive and self._modified[k] == bound)
                ]
            keys.sort(key=lambda k: (self._modified[k], str(k)))
            return [self._records[k] for k in keys]

    def deleted_since(
        self, since: datetime | str | None = None, *, inclusive: bool = True
    ) -> list[Tombstone]:
        with self.lock:
            tombs = list(self._tombstones.values())
        if since is not None:
            bound = parse_time(since)
            tombs = [
                t for t in tombs if t.deleted_at > bound or (inclusive and t.deleted_at == bound)
            ]
        return sorted(tombs, key=lambda t: (t.deleted_at, str(t.key)))
