"""Zendesk connector against the local Zendesk simulator: the shared suite and its own cases."""

from __future__ import annotations

import pytest

from libs.http_retry import ConnectorAuthError
from sources.interface.lakeflow_connect import read_to_fixed_point
from sources.zendesk.test.simulator import ZendeskSimulator
from sources.zendesk.zendesk import ZendeskLakeflowConnect
from tests.connector_suite import LakeflowConnectTests, simulator_fixtures

sim, make_connector = simulator_fixtures(ZendeskSimulator, ZendeskLakeflowConnect, seed=5)


class TestZendeskConnector(LakeflowConnectTests):
    """The shared suite, against the simulator."""


def read_all(connector, table, offset=None, deletes=False):
    return read_to_fixed_point(connector, table, offset, {}, deletes=deletes)


@pytest.mark.parametrize(
    ("table", "path", "expected"),
    [
        ("tickets", "/api/v2/incremental/tickets/cursor.json", lambda s: len(s.tickets)),
        ("users", "/api/v2/incremental/users/cursor.json", lambda s: len(s.users)),
        (
            "ticket_comments",
            "/api/v2/incremental/ticket_events.json",
            lambda s: len(s.comment_events),
        ),
    ],
)
def test_paging_across_several_pages(sim, table, path, expected, make_connector):
    sim.page_size = 4
    records, _ = read_all(make_connector(), table)
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids)) == expected(sim)
    assert len(sim.requests_to(path)) >= 3


def test_cursor_paging_follows_after_cursor(sim, make_connector):
    sim.page_size = 10
    read_all(make_connector(), "tickets")
    requests = sim.requests_to("/api/v2/incremental/tickets/cursor.json")
    assert requests[0].arg("start_time") == "0" and requests[0].arg("cursor") is None
    assert all(r.arg("cursor") for r in requests[1:])


def test_incremental_read_returns_only_changed_records(sim, make_connector):
    connector = make_connector()
    _, ticket_offset = read_all(connector, "tickets")
    _, user_offset = read_all(connector, "users")
    _, org_offset = read_all(connector, "organizations")
    _, comment_offset = read_all(connector, "ticket_comments")
    sim.tickets.update(3, status="solved")
    new_ticket = sim.add_ticket("brand new")
    sim.users.update(9002, name="Renamed")
    sim.orgs.update(361, name="Renamed org")
    sim.add_comment(5, "a follow-up")
    tickets, _ = read_all(connector, "tickets", ticket_offset)
    assert [t["id"] for t in tickets] == [3, new_ticket["id"]]
    assert [u["id"] for u in read_all(connector, "users", user_offset)[0]] == [9002]
    assert [o["id"] for o in read_all(connector, "organizations", org_offset)[0]] == [361]
    comments, _ = read_all(connector, "ticket_comments", comment_offset)
    assert sorted(c["body"] for c in comments) == [
        f"First comment on {new_ticket['id']}",
        "a follow-up",
    ]


def test_deleted_tickets_are_read_as_deletes_and_not_as_tickets(sim, make_connector):
    connector = make_connector()
    _, offset = read_all(connector, "tickets", deletes=True)
    sim.tickets.delete(7)
    sim.tickets.delete(8)
    deleted, _ = read_all(connector, "tickets", offset, deletes=True)
    assert [d["id"] for d in deleted] == [7, 8]
    tickets, _ = read_all(connector, "tickets")
    assert {7, 8}.isdisjoint(t["id"] for t in tickets)


def test_429_is_retried_after_retry_after(sim, make_connector):
    sim.fail_next(status=429, retry_after=30, times=2, path="/api/v2/incremental/users")
    before = sim.clock.time()
    records, _ = read_all(make_connector(), "users")
    assert len(records) == len(sim.users)
    assert sim.clock.time() - before >= 60  # both waits honoured, on the simulated clock
    assert [r.status for r in sim.requests_to("/api/v2/incremental/users")][:2] == [429, 429]


def test_bad_credentials_give_a_clear_error(make_connector):
    with pytest.raises(ConnectorAuthError, match="HTTP 401.*Couldn't authenticate you"):
        make_connector(api_token="wrong").read_table("tickets", None, {})


def test_missing_connection_options_are_named():
    with pytest.raises(ValueError, match="email, api_token"):
        ZendeskLakeflowConnect({"subdomain": "acme"})
