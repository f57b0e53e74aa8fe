"""GitHub connector tests against the local GitHub simulator (no network)."""

from __future__ import annotations

import pytest

from libs.http_retry import ConnectorAuthError, ConnectorHttpError
from sources.github.github import GITHUB_SCHEMAS, GithubLakeflowConnect
from sources.github.test.simulator import TOKEN, GithubSimulator
from sources.interface.lakeflow_connect import read_to_fixed_point
from tests.connector_suite import LakeflowConnectTests, simulator_fixtures

OWNER, REPO = "octo-org", "hello-world"
TABLE_OPTIONS = {"owner": OWNER, "repo": REPO}
REPO_PATH = f"/repos/{OWNER}/{REPO}"

sim, make_connector = simulator_fixtures(GithubSimulator, GithubLakeflowConnect, seed=7)


class TestGithubConnector(LakeflowConnectTests):
    """The shared suite, against the simulator."""

    table_options = {table: TABLE_OPTIONS for table in GITHUB_SCHEMAS}


def read_until_stable(connector, table, offset=None, options=TABLE_OPTIONS):
    return read_to_fixed_point(connector, table, offset, options, max_calls=10)


def page_numbers(sim, path):
    return [int(r.arg("page") or 1) for r in sim.requests_to(path) if r.path == path]


@pytest.mark.parametrize(
    ("table", "path", "expected_keys"),
    [
        ("issues", f"{REPO_PATH}/issues", lambda s: {r["id"] for r in s.issues}),
        ("pull_requests", f"{REPO_PATH}/pulls", lambda s: {r["id"] for r in s.pulls}),
        ("commits", f"{REPO_PATH}/commits", lambda s: {r["sha"] for r in s.commits}),
        ("issue_comments", f"{REPO_PATH}/issues/comments", lambda s: {r["id"] for r in s.comments}),
        ("contributors", f"{REPO_PATH}/contributors", lambda s: {r["id"] for r in s.contributors}),
    ],
)
def test_paging_follows_link_next_across_pages(sim, table, path, expected_keys, make_connector):
    sim.max_per_page = 3
    connector = make_connector()
    records, _ = read_until_stable(connector, table)
    key = "sha" if table == "commits" else "id"
    keys = [r[key] for r in records]
    assert len(keys) == len(set(keys)), "a record was read twice"
    assert set(keys) == expected_keys(sim)
    pages = page_numbers(sim, path)
    assert max(pages) >= 3
    assert pages[: max(pages)] == list(range(1, max(pages) + 1))
    assert all(r["repository_owner"] == OWNER and r["repository_name"] == REPO for r in records)


def test_issues_exclude_pull_requests_and_match_the_schema(sim, make_connector):
    connector = make_connector()
    records, offset = read_until_stable(connector, "issues")
    pull_numbers = {p["number"] for p in sim.pulls}
    assert pull_numbers and not pull_numbers & {r["number"] for r in records}
    schema_fields = connector.get_table_schema("issues", TABLE_OPTIONS).fieldNames()
    assert all(list(r) == schema_fields for r in records)
    assert offset == {"cursor": max(r["updated_at"] for r in sim.issues)}
    # every request asked for all states, ascending by update time
    first = sim.requests_to(f"{REPO_PATH}/issues")[0]
    assert (first.arg("state"), first.arg("sort"), first.arg("direction")) == (
        "all",
        "updated",
        "asc",
    )


def test_issues_incremental_read_returns_only_changed(sim, make_connector):
    connector = make_connector()
    _, offset = read_until_stable(connector, "issues")
    numbers = sorted(i["number"] for i in sim.issues)
    sim.update_issue(numbers[0], title="edited title")
    sim.update_issue(numbers[5], state="closed")
    new = sim.add_issue("brand new")
    sim.update_pull(sorted(p["number"] for p in sim.pulls)[0], title="a PR changed")
    sim.clear_log()

    rows, next_offset = connector.read_table("issues", offset, TABLE_OPTIONS)
    rows = list(rows)
    assert [r["number"] for r in rows] == [numbers[0], numbers[5], new["number"]]
    assert rows[0]["title"] == "edited title" and rows[1]["state"] == "closed"
    assert rows[1]["closed_at"] is not None
    assert next_offset == {"cursor": new["updated_at"]} and next_offset["cursor"] > offset["cursor"]
    assert sim.log[0].arg("since") == offset["cursor"]

    again, same = connector.read_table("issues", next_offset, TABLE_OPTIONS)
    assert list(again) == [] and same == next_offset


def test_pull_requests_incremental_stops_at_the_cursor(sim, make_connector):
    sim.max_per_page = 3
    connector = make_connector()
    _, offset = read_until_stable(connector, "pull_requests")
    numbers = sorted(p["number"] for p in sim.pulls)
    sim.update_pull(numbers[2], state="closed")
    added = sim.add_pull("new feature")
    sim.clear_log()

    rows, next_offset = connector.read_table("pull_requests", offset, TABLE_OPTIONS)
    assert [r["number"] for r in rows] == [numbers[2], added["number"]]
    assert next_offset == {"cursor": added["updated_at"]}
    # Newest-updated first: the first page already reaches the cursor, so no further pages.
    assert page_numbers(sim, f"{REPO_PATH}/pulls") == [1]
    assert sim.log[0].arg("direction") == "desc"


def test_issue_comments_incremental_and_issue_number(sim, make_connector):
    connector = make_connector()
    records, offset = read_until_stable(connector, "issue_comments")
    assert all(r["issue_url"].endswith(f"/issues/{r['issue_number']}") for r in records)
    target = sorted(c["id"] for c in sim.comments)[3]
    sim.update_comment(target, "edited")
    issue_number = next(iter(sim.issues))["number"]
    added = sim.add_comment(issue_number, "new comment")

    rows, _ = read_until_stable(connector, "issue_comments", offset)
    assert [(r["id"], r["body"]) for r in rows] == [
        (target, "edited"),
        (added["id"], "new comment"),
    ]
    assert rows[1]["issue_number"] == issue_number


def test_commits_append_only_new(sim, make_connector):
    connector = make_connector()
    records, offset = read_until_stable(connector, "commits")
    assert [r["committed_at"] for r in records] == sorted(r["committed_at"] for r in records)
    first, second = sim.add_commit("one"), sim.add_commit("two")

    rows, next_offset = read_until_stable(connector, "commits", offset)
    assert [r["sha"] for r in rows] == [first["sha"], second["sha"]]
    assert rows[0]["commit"]["message"] == "one"
    assert next_offset == {"cursor": second["commit"]["committer"]["date"]}


def test_start_date_limits_the_first_read(sim, make_connector):
    connector = make_connector()
    options = {**TABLE_OPTIONS, "start_date": "2024-01-01"}
    records, _ = read_until_stable(connector, "issues", options=options)
    expected = {i["id"] for i in sim.issues if i["updated_at"] > "2024-01-01T00:00:00Z"}
    assert expected and {r["id"] for r in records} == expected
    assert sim.requests_to(f"{REPO_PATH}/issues")[0].arg("since") == "2024-01-01T00:00:00Z"


def test_snapshot_tables_see_deletions(sim, make_connector):
    connector = make_connector()
    before, offset = read_until_stable(connector, "contributors")
    assert offset == {"snapshot": "complete"}
    gone = before[0]["login"]
    sim.remove_contributor(gone)
    after, _ = read_until_stable(connector, "contributors")
    assert gone not in {r["login"] for r in after}
    assert len(after) == len(before) - 1

    repo, _ = read_until_stable(connector, "repository")
    assert len(repo) == 1 and repo[0]["full_name"] == f"{OWNER}/{REPO}"
    assert repo[0]["owner"]["login"] == OWNER and repo[0]["license"]["spdx_id"] == "Apache-2.0"


def test_429_with_retry_after_is_recovered(sim, make_connector):
    sim.max_per_page = 5
    connector = make_connector()
    start = sim.clock.time()
    sim.fail_next(status=429, retry_after=30, times=2, path=f"{REPO_PATH}/issues")
    records, _ = read_until_stable(connector, "issues")
    assert {r["id"] for r in records} == {i["id"] for i in sim.issues}
    assert [r.status for r in sim.log[:3]] == [429, 429, 200]
    assert sim.clock.time() - start == 60


def test_secondary_rate_limit_403_with_retry_after_is_recovered(sim, make_connector):
    connector = make_connector()
    sim.fail_next(
        status=403,
        retry_after=45,
        body={"message": "You have exceeded a secondary rate limit."},
        path=f"{REPO_PATH}/commits",
    )
    records, _ = read_until_stable(connector, "commits")
    assert len(records) == len(sim.commits)
    assert sim.log[0].status == 403


def test_primary_rate_limit_waits_for_reset(sim, make_connector):
    sim.max_per_page = 3
    connector = make_connector()
    reset = sim.set_rate_limit(remaining=2, reset_in=900)
    records, _ = read_until_stable(connector, "issues")
    assert {r["id"] for r in records} == {i["id"] for i in sim.issues}
    statuses = [r.status for r in sim.log]
    assert statuses[:3] == [200, 200, 403] and statuses.count(403) == 1
    assert sim.clock.time() >= reset


def test_server_errors_are_retried(sim, make_connector):
    connector = make_connector()
    sim.fail_next(status=502, times=2)
    sim.fail_next(status=503, times=1)
    records, _ = read_until_stable(connector, "pull_requests")
    assert len(records) == len(sim.pulls)
    assert [r.status for r in sim.log[:4]] == [502, 502, 503, 200]


def test_bad_token_gives_a_clear_error(sim, make_connector):
    connector = make_connector(token="ghp_wrong")
    with pytest.raises(ConnectorAuthError) as info:
        connector.read_table("issues", None, TABLE_OPTIONS)
    message = str(info.value)
    assert message.startswith("github: ") and "HTTP 401" in message
    assert "Bad credentials" in message and "ghp_wrong" not in message
    assert len(sim.log) == 1  # no retries on a bad credential


def test_token_never_reaches_the_request_log(sim, make_connector):
    connector = make_connector()
    read_until_stable(connector, "issues")
    assert sim.log and TOKEN not in repr(sim.log)


def test_bad_options_are_refused(sim, make_connector):
    with pytest.raises(ValueError, match="token required"):
        GithubLakeflowConnect({"base_url": sim.url})
    connector = make_connector()
    with pytest.raises(ValueError, match="repo"):
        connector.read_table("issues", None, {"owner": OWNER})
    with pytest.raises(ValueError, match="unknown table 'wiki'"):
        connector.get_table_schema("wiki", TABLE_OPTIONS)
    with pytest.raises(ValueError, match="start_date"):
        connector.read_table("issues", None, {**TABLE_OPTIONS, "start_date": "last week"})
    with pytest.raises(ConnectorHttpError, match="HTTP 404"):
        connector.read_table("issues", None, {"owner": OWNER, "repo": "nope"})
