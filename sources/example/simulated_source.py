"""A deterministic, in-process stand-in for a SaaS API: the example connector's "server".

The same seed always yields the same records. Stores are shared per (seed, source_id), so a test can
change the data between two reads of freshly built connectors, as a real API changes between runs.
Every change advances one logical clock, which stamps `updated_at` and `deleted_at`.
"""

from __future__ import annotations

import base64
import random
from datetime import datetime, timedelta, timezone

EXAMPLE_EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
EXAMPLE_CITIES = ("Lisbon", "Oslo", "Nairobi", "Lima", "Osaka", "Austin")
EXAMPLE_EVENT_KINDS = ("login", "view", "purchase", "logout")


def example_timestamp(tick: int) -> str:
    return (EXAMPLE_EPOCH + timedelta(minutes=tick)).strftime("%Y-%m-%dT%H:%M:%SZ")


class SimulatedStore:
    def __init__(
        self, seed: int, customers: int = 12, orders: int = 30, events: int = 25, deleted: int = 2
    ):
        self.rng = random.Random(seed)
        self.tick = 0
        self.products = [self._product(i) for i in range(1, 8)]
        self.snapshot_version = 1
        self.customers = {i: self._customer(i) for i in range(1, customers + 1)}
        # `orders` stay live; `deleted` more are created after them and deleted, so the delete
        # flow has records from the very first read.
        self.orders = {i: self._order(i) for i in range(1, orders + deleted + 1)}
        self.deleted_orders: list[dict] = []
        for oid in range(orders + 1, orders + deleted + 1):
            self.delete_order(oid)
        self.events = [self._event(i) for i in range(1, events + 1)]

    def _stamp(self) -> str:
        self.tick += 1
        return example_timestamp(self.tick)

    def _product(self, pid: int) -> dict:
        return {
            "id": pid,
            "name": f"product-{pid}",
            "price": f"{self.rng.randint(100, 99999) / 100:.2f}",
            "tags": sorted(self.rng.sample(["new", "sale", "eco", "gift"], 2)),
            "attributes": {"color": self.rng.choice(["red", "blue", "green"])},
        }

    def _customer(self, cid: int) -> dict:
        return {
            "id": cid,
            "name": f"customer-{cid}",
            "email": f"customer{cid}@example.com",
            "address": {"city": self.rng.choice(EXAMPLE_CITIES), "zip": f"{cid:05d}"},
            "active": self.rng.random() > 0.2,
            "updated_at": self._stamp(),
        }

    def _order(self, oid: int) -> dict:
        return {
            "id": oid,
            "customer_id": self.rng.randint(1, max(1, len(self.customers))),
            "amount": f"{self.rng.randint(500, 50000) / 100:.2f}",
            "status": self.rng.choice(["placed", "paid", "shipped"]),
            "placed_on": (EXAMPLE_EPOCH + timedelta(days=oid)).date().isoformat(),
            "updated_at": self._stamp(),
        }

    def _event(self, eid: int) -> dict:
        occurred = EXAMPLE_EPOCH + timedelta(seconds=eid * 37)
        payload = f"event {eid}".encode()
        return {
            "event_id": eid,
            "kind": self.rng.choice(EXAMPLE_EVENT_KINDS),
            "payload": base64.b64encode(payload).decode("ascii"),
            "occurred_at": int(occurred.timestamp() * 1000),  # epoch milliseconds, as APIs do
        }

    # -- changes a test makes between reads ------------------------------------------------------
    def update_customer(self, cid: int, **fields) -> dict:
        record = self.customers[cid]
        record.update(fields, updated_at=self._stamp())
        return record

    def add_customer(self) -> dict:
        cid = max(self.customers, default=0) + 1
        self.customers[cid] = self._customer(cid)
        return self.customers[cid]

    def update_order(self, oid: int, **fields) -> dict:
        record = self.orders[oid]
        record.update(fields, updated_at=self._stamp())
        return record

    def delete_order(self, oid: int) -> dict:
        self.orders.pop(oid)
        tombstone = {"id": oid, "deleted_at": self._stamp()}
        self.deleted_orders.append(tombstone)
        return tombstone

    def append_events(self, count: int) -> list[dict]:
        start = len(self.events) + 1
        added = [self._event(i) for i in range(start, start + count)]
        self.events += added
        return added

    def change_product(self, pid: int, **fields) -> None:
        next(p for p in self.products if p["id"] == pid).update(fields)
        self.snapshot_version += 1

    def apply_change_round(self, number: int) -> None:
        """One deterministic round of changes: an update, an insert and a delete where the table
        has them, new events, a changed product. Rounds replay identically in any process."""
        self.update_customer(number % len(self.customers) + 1, email=f"round{number}@example.com")
        self.add_customer()
        self.update_order(min(self.orders), status="refunded")
        self.delete_order(max(self.orders))
        self.append_events(3)
        self.change_product(number % len(self.products) + 1, name=f"product-round-{number}")


_EXAMPLE_STORES: dict[tuple[int, str, int], SimulatedStore] = {}


def example_store(seed: int, source_id: str = "", changes: int = 0) -> SimulatedStore:
    """The shared store for (seed, source_id, changes), created on first use.

    `changes` replays that many change rounds: Spark runs connectors in worker processes, where
    only options travel, so that is how a Spark test changes the data between two runs.
    """
    key = (seed, source_id, changes)
    if key not in _EXAMPLE_STORES:
        store = SimulatedStore(seed)
        for number in range(changes):
            store.apply_change_round(number)
        _EXAMPLE_STORES[key] = store
    return _EXAMPLE_STORES[key]


def reset_example_stores() -> None:
    _EXAMPLE_STORES.clear()
