"""A Zendesk Support API simulator on the shared framework: routes plus seeded data.

Models the incremental exports the connector uses: cursor-based ticket and user exports
(`start_time` → `after_cursor`, `end_of_stream`, deleted tickets with status "deleted"), and the
time-based organization and ticket-event exports (items at or after `start_time`, `end_time`),
Zendesk's 401 body for bad credentials, and per-page limits tests can lower.
"""

from __future__ import annotations

from datetime import datetime

from tools.simulator import Response, Simulator, decode_cursor, encode_cursor, parse_time, route

EMAIL, API_TOKEN = "agent@acme.example", "zendesk-simulated-token"
STATUSES = ("new", "open", "pending", "solved")


def ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(value: str) -> int:
    return int(parse_time(value).timestamp())


class ZendeskSimulator(Simulator):
    service_name = "zendesk"

    def __init__(
        self, seed: int = 0, *, tickets: int = 25, users: int = 12, deleted: int = 2, **kwargs
    ):
        self.sizes = {"tickets": tickets, "users": users, "deleted": deleted}
        self.page_size = 1000  # tests lower it to force many pages
        super().__init__(seed, **kwargs)

    def connection_options(self) -> dict[str, str]:
        """The connection options of a connector that reads this simulator."""
        return {"subdomain": "acme", "email": EMAIL, "api_token": API_TOKEN, "base_url": self.url}

    @staticmethod
    def _stamp(record: dict, when: datetime, event: str) -> None:
        if event == "add":
            record.setdefault("created_at", ts(when))
        record["updated_at"] = ts(when)

    def seed_data(self) -> None:
        self.orgs = self.collection(on_change=self._stamp)
        self.users = self.collection(on_change=self._stamp)
        self.tickets = self.collection(on_change=self._stamp)
        self.comment_events: list[dict] = []
        for _ in range(4):
            self.add_organization()
        for _ in range(self.sizes["users"]):
            self.add_user()
        for _ in range(self.sizes["tickets"]):
            self.add_ticket()
        # Tickets deleted before the first read: the delete flow has records from the start.
        for _ in range(self.sizes["deleted"]):
            self.tickets.delete(self.add_ticket("spam")["id"])

    # -- data changes tests make ---------------------------------------------------------------
    def add_organization(self) -> dict:
        oid = self.next_id("org", 360)
        return self.orgs.add(
            {"id": oid, "name": f"Org {oid}", "domain_names": [f"org{oid}.example"]}
        )

    def add_user(self) -> dict:
        uid = self.next_id("user", 9000)
        org = self.rng.choice(self.orgs.values())["id"]
        record = {"id": uid, "name": f"User {uid}", "email": f"user{uid}@example.com",
                  "role": self.rng.choice(["end-user", "agent"]), "active": True,
                  "organization_id": org}  # fmt: skip
        return self.users.add(record)

    def add_ticket(self, subject: str | None = None) -> dict:
        tid = self.next_id("ticket", 1)
        users = self.users.values()
        agents = [u for u in users if u["role"] == "agent"]
        status = self.rng.choice(STATUSES)
        record = {
            "id": tid,
            "subject": subject or f"Ticket {tid}",
            "description": f"Something about {tid}",
            "status": status,
            "priority": self.rng.choice(["low", "normal", "high"]),
            "requester_id": self.rng.choice(users)["id"],
            # New tickets wait in the queue unassigned; the others have an agent.
            "assignee_id": None if status == "new" or not agents else self.rng.choice(agents)["id"],
            "organization_id": self.rng.choice(self.orgs.values())["id"],
            "tags": sorted(self.rng.sample(["vip", "billing", "bug", "how-to"], 2)),
        }
        self.tickets.add(record)
        self.add_comment(tid, f"First comment on {tid}")
        return record

    def add_comment(self, ticket_id: int, body: str) -> dict:
        when = self.clock.tick()
        event = {
            "id": self.next_id("event", 70000),
            "ticket_id": ticket_id,
            "created_at": ts(when),
            "child_events": [
                {"id": self.next_id("comment", 50000), "event_type": "Comment", "body": body,
                 "author_id": self.tickets.get(ticket_id)["requester_id"], "public": True},
                {"id": self.next_id("comment", 50000), "event_type": "Change", "field_name": "status"},
            ],
        }  # fmt: skip
        self.comment_events.append(event)
        return event

    # -- auth and errors -------------------------------------------------------------------------
    def error_body(self, status: int, message: str):
        return {"error": message}

    def check_auth(self, request):
        if request.basic_auth() != (f"{EMAIL}/token", API_TOKEN):
            return Response.json({"error": "Couldn't authenticate you"}, status=401)
        return None

    # -- exports ---------------------------------------------------------------------------------
    def _cursor_export(self, request, items: list[tuple[str, int, dict]], key: str):
        """items: (time, id, record) sorted; paging by an opaque cursor of the last position."""
        per_page = min(request.int_arg("per_page", 1000, minimum=1), self.page_size)
        cursor = request.arg("cursor")
        if cursor:
            state = decode_cursor(cursor)
            position = (state["t"], state["id"])
            remaining = [i for i in items if (i[0], i[1]) > position]
        else:
            start = request.int_arg("start_time", 0)
            remaining = [i for i in items if epoch(i[0]) >= start]
            position = None
        page = remaining[:per_page]
        if page:
            after = encode_cursor({"t": page[-1][0], "id": page[-1][1]})
        else:
            after = cursor or encode_cursor({"t": "", "id": 0})
        return {
            key: [dict(record) for _, _, record in page],
            "after_cursor": after,
            "after_url": request.url_with(cursor=after, start_time=None),
            "end_of_stream": len(remaining) <= per_page,
        }

    @route("GET", "/api/v2/incremental/tickets/cursor.json")
    def ticket_export(self, request):
        live = [(r["updated_at"], r["id"], r) for r in self.tickets.values()]
        dead = [
            (
                ts(t.deleted_at),
                t.key,
                {**t.record, "status": "deleted", "updated_at": ts(t.deleted_at)},
            )
            for t in self.tickets.deleted_since()
        ]
        return self._cursor_export(
            request, sorted(live + dead, key=lambda i: (i[0], i[1])), "tickets"
        )

    @route("GET", "/api/v2/incremental/users/cursor.json")
    def user_export(self, request):
        items = sorted(
            ((r["updated_at"], r["id"], r) for r in self.users.values()), key=lambda i: (i[0], i[1])
        )
        return self._cursor_export(request, items, "users")

    def _time_export(self, request, records: list[dict], time_field: str, key: str):
        start = request.int_arg("start_time", 0)
        matching = sorted(
            (r for r in records if epoch(r[time_field]) >= start),
            key=lambda r: (r[time_field], r["id"]),
        )
        page = matching[: self.page_size]
        end = epoch(page[-1][time_field]) if page else start
        return {
            key: [dict(r) for r in page],
            "end_time": end,
            "end_of_stream": len(matching) <= self.page_size,
            "next_page": request.url_with(start_time=end),
            "count": len(page),
        }

    @route("GET", "/api/v2/incremental/organizations.json")
    def organization_export(self, request):
        return self._time_export(request, self.orgs.values(), "updated_at", "organizations")

    @route("GET", "/api/v2/incremental/ticket_events.json")
    def ticket_event_export(self, request):
        return self._time_export(request, self.comment_events, "created_at", "ticket_events")
