"""A GitHub REST API simulator on the shared framework: routes plus seeded repository data.

Models what the connector depends on: `Link` paging with a per_page cap, `since` / `sort` /
`direction` / `state` filters, pull requests listed by the issues endpoint (with a `pull_request`
key), the primary rate limit (X-RateLimit-* headers, 403 when exhausted, refilled at the reset on
the simulated clock) and GitHub's 401 / 404 / 422 bodies.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta

from tools.simulator import (
    HttpError,
    Response,
    Simulator,
    link_header,
    paginate,
    parse_time,
    route,
)

TOKEN = "ghp_simulatedTOKEN0123456789abcdefghijklmn"
DOCS = "https://docs.github.com/rest"

FIRST_NAMES = ["ada", "grace", "linus", "guido", "barbara", "ken", "margaret", "dennis"]
WORDS = ["parser", "cache", "login", "docs", "build", "timeout", "crash", "upload", "search", "ui"]
LABELS = [("bug", "d73a4a"), ("enhancement", "a2eeef"), ("documentation", "0075ca")]


def ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def node_id(prefix: str, number: int) -> str:
    return prefix + "_" + base64.b64encode(f"{prefix}{number}".encode()).decode().rstrip("=")


class GithubSimulator(Simulator):
    service_name = "github"

    def __init__(
        self,
        seed: int = 0,
        *,
        owner: str = "octo-org",
        repo: str = "hello-world",
        issues: int = 24,
        pulls: int = 12,
        commits: int = 30,
        comments: int = 40,
        **kwargs,
    ):
        self.owner, self.repo_name = owner, repo
        self.sizes = {"issues": issues, "pulls": pulls, "commits": commits, "comments": comments}
        self.max_per_page = 100  # GitHub's cap; tests lower it to force many pages
        self.rate_limit = 5000
        super().__init__(seed, **kwargs)

    def connection_options(self) -> dict[str, str]:
        """The connection options of a connector that reads this simulator."""
        return {"token": TOKEN, "base_url": self.url}

    # ----- seeded data -------------------------------------------------------------------------

    def seed_data(self) -> None:
        self.clock.set("2024-06-01T00:00:00Z")
        self.rate_remaining = self.rate_limit
        self.rate_reset = int(self.clock.time()) + 3600
        start = datetime.fromisoformat("2023-01-01T00:00:00+00:00")
        span = int((self.clock.now() - timedelta(days=1) - start).total_seconds())

        def past() -> datetime:
            return start + timedelta(seconds=self.rng.randrange(span))

        self.users = [self._user(i, name) for i, name in enumerate(FIRST_NAMES, start=1)]
        self.labels = [
            {
                "id": 9000 + i,
                "node_id": node_id("LA", 9000 + i),
                "url": f"{self.api}/labels/{name}",
                "name": name,
                "color": color,
                "default": True,
                "description": f"{name} label",
            }
            for i, (name, color) in enumerate(LABELS)
        ]
        self.repository = self._repository(past())
        self.milestones = [self._milestone(1, past(), closed=True), self._milestone(2, past())]
        self.issues = self.collection(key="number", on_change=self._stamp_issue)
        self.pulls = self.collection(key="number", on_change=self._stamp_issue)
        self.comments = self.collection(on_change=self._stamp_comment)
        self.commits = self.collection(key="sha", on_change=self._stamp_commit)
        self.contributors = self.collection(key="login")

        total = self.sizes["issues"] + self.sizes["pulls"]
        kinds = ["pull"] * self.sizes["pulls"] + ["issue"] * self.sizes["issues"]
        self.rng.shuffle(kinds)
        for kind, when in zip(kinds, sorted(past() for _ in range(total)), strict=True):
            if kind == "pull":
                self.add_pull(at=when)
            else:
                self.add_issue(at=when)
        for when in sorted(past() for _ in range(self.sizes["comments"])):
            self.add_comment(self.rng.choice(list(self.issues.values()))["number"], at=when)
        for when in sorted(past() for _ in range(self.sizes["commits"])):
            self.add_commit(at=when)
        # Updates spread over the records' lives so `updated_at` ordering differs from creation.
        for record in self.rng.sample(self.issues.values(), k=len(self.issues) // 3):
            self.update_issue(record["number"], at=max(past(), self._created(record)))

    def _user(self, index: int, login: str) -> dict:
        uid = 100 + index
        return {
            "login": login,
            "id": uid,
            "node_id": node_id("U", uid),
            "avatar_url": f"https://avatars.example.com/u/{uid}",
            "gravatar_id": "",
            "url": f"{self.api_root}/users/{login}",
            "html_url": f"https://github.com/{login}",
            "type": "User",
            "site_admin": False,
        }

    def _repository(self, created: datetime) -> dict:
        owner = {**self._user(0, self.owner), "type": "Organization"}
        full = f"{self.owner}/{self.repo_name}"
        return {
            "id": 700000 + self.seed,
            "node_id": node_id("R", 700000 + self.seed),
            "name": self.repo_name,
            "full_name": full,
            "private": False,
            "owner": owner,
            "html_url": f"https://github.com/{full}",
            "description": "A simulated repository",
            "fork": False,
            "url": self.api,
            "homepage": f"https://{self.owner}.example.com/{self.repo_name}",
            "size": 1024,
            "stargazers_count": self.rng.randrange(1000),
            "watchers_count": 40,
            "language": "Python",
            "has_issues": True,
            "has_projects": True,
            "has_wiki": False,
            "forks_count": 3,
            "archived": False,
            "disabled": False,
            "open_issues_count": 0,
            "license": {"key": "apache-2.0", "name": "Apache License 2.0", "spdx_id": "Apache-2.0"},
            "topics": ["data", "connectors"],
            "visibility": "public",
            "default_branch": "main",
            "subscribers_count": 12,
            "created_at": ts(created),
            "updated_at": ts(created),
            "pushed_at": ts(created),
        }

    def _milestone(self, number: int, created: datetime, closed: bool = False) -> dict:
        mid = 8_000_000 + number
        due = created + timedelta(days=30)
        return {
            "url": f"{self.api}/milestones/{number}",
            "html_url": f"https://github.com/{self.owner}/{self.repo_name}/milestone/{number}",
            "id": mid,
            "node_id": node_id("MI", mid),
            "number": number,
            "title": f"v1.{number}",
            "description": f"Release 1.{number}",
            "creator": self.users[0],
            "open_issues": 0,
            "closed_issues": 0,
            "state": "closed" if closed else "open",
            "created_at": ts(created),
            "updated_at": ts(due if closed else created),
            "due_on": ts(due),
            "closed_at": ts(due) if closed else None,
        }

    @property
    def api_root(self) -> str:
        # Record URLs point at the real API shape; paging links use the live server URL.
        return "https://api.github.com"

    @property
    def api(self) -> str:
        return f"{self.api_root}/repos/{self.owner}/{self.repo_name}"

    @staticmethod
    def _created(record: dict) -> datetime:
        return datetime.fromisoformat(record["created_at"].replace("Z", "+00:00"))

    @staticmethod
    def _stamp_issue(record: dict, when: datetime, event: str) -> None:
        if event == "add":
            record.setdefault("created_at", ts(when))
        record["updated_at"] = ts(when)
        if record.get("state") == "closed" and not record.get("closed_at"):
            record["closed_at"] = ts(when)

    @staticmethod
    def _stamp_comment(record: dict, when: datetime, event: str) -> None:
        if event == "add":
            record.setdefault("created_at", ts(when))
        record["updated_at"] = ts(when)

    @staticmethod
    def _stamp_commit(record: dict, when: datetime, event: str) -> None:
        if event == "add":
            record["commit"]["author"].setdefault("date", ts(when))
            record["commit"]["committer"]["date"] = ts(when)

    # ----- mutations for tests -----------------------------------------------------------------

    def _issue_base(self, number: int, user: dict, title: str, body: str) -> dict:
        state = self.rng.choice(["open", "open", "closed"])
        labels = self.rng.sample(self.labels, k=self.rng.randrange(3))
        assignees = self.rng.sample(self.users, k=self.rng.randrange(2))
        return {
            "id": 2_000_000 + number,
            "node_id": node_id("I", number),
            "url": f"{self.api}/issues/{number}",
            "html_url": f"https://github.com/{self.owner}/{self.repo_name}/issues/{number}",
            "number": number,
            "state": state,
            "state_reason": "completed" if state == "closed" else None,
            "title": title,
            "body": body,
            "user": user,
            "labels": labels,
            "assignee": assignees[0] if assignees else None,
            "assignees": assignees,
            "milestone": self.rng.choice([None, *self.milestones]),
            "locked": False,
            "comments": 0,
            "author_association": "CONTRIBUTOR",
            "closed_at": None,
        }

    def add_issue(self, title: str | None = None, *, at: datetime | str | None = None) -> dict:
        number = self.next_id("number")
        title = title or f"{self.rng.choice(WORDS)} fails on {self.rng.choice(WORDS)}"
        record = self._issue_base(number, self.rng.choice(self.users), title, f"Details #{number}")
        return self.issues.add(record, at=at)

    def update_issue(self, number: int, *, at: datetime | str | None = None, **changes) -> dict:
        return self.issues.update(number, changes, at=at)

    def add_pull(self, title: str | None = None, *, at: datetime | str | None = None) -> dict:
        number = self.next_id("number")
        user = self.rng.choice(self.users)
        title = title or f"Fix {self.rng.choice(WORDS)} in {self.rng.choice(WORDS)}"
        record = self._issue_base(number, user, title, f"Closes nothing, PR #{number}")
        merged = record["state"] == "closed" and self.rng.random() < 0.7
        sha = hashlib.sha1(f"pr-{self.seed}-{number}".encode()).hexdigest()
        record.update(
            {
                "id": 3_000_000 + number,
                "node_id": node_id("PR", number),
                "url": f"{self.api}/pulls/{number}",
                "html_url": f"https://github.com/{self.owner}/{self.repo_name}/pull/{number}",
                "draft": self.rng.random() < 0.2,
                "requested_reviewers": self.rng.sample(self.users, k=1),
                "head": {
                    "label": f"{user['login']}:feature-{number}",
                    "ref": f"feature-{number}",
                    "sha": sha,
                    "user": user,
                },
                "base": {
                    "label": f"{self.owner}:main",
                    "ref": "main",
                    "sha": sha[::-1],
                    "user": self.repository["owner"],
                },
                "merge_commit_sha": sha[:20] + sha[20:][::-1] if merged else None,
                "merged": merged,
            }
        )
        record.pop("state_reason")
        record.pop("comments")
        pull = self.pulls.add(record, at=at)
        if merged:
            pull["merged_at"] = pull["closed_at"] = pull["updated_at"]
        else:
            pull["merged_at"] = None
        return pull

    def update_pull(self, number: int, *, at: datetime | str | None = None, **changes) -> dict:
        return self.pulls.update(number, changes, at=at)

    def add_comment(
        self, issue_number: int, body: str | None = None, *, at: datetime | str | None = None
    ) -> dict:
        cid = 5_000_000 + self.next_id("comment")
        record = {
            "id": cid,
            "node_id": node_id("IC", cid),
            "url": f"{self.api}/issues/comments/{cid}",
            "html_url": f"https://github.com/{self.owner}/{self.repo_name}/issues/"
            f"{issue_number}#issuecomment-{cid}",
            "body": body or f"I can reproduce the {self.rng.choice(WORDS)} problem.",
            "user": self.rng.choice(self.users),
            "issue_url": f"{self.api}/issues/{issue_number}",
            "author_association": "NONE",
        }
        comment = self.comments.add(record, at=at)
        if issue_number in self.issues:
            self.issues.get(issue_number)["comments"] += 1
        return comment

    def update_comment(self, comment_id: int, body: str, *, at=None) -> dict:
        return self.comments.update(comment_id, {"body": body}, at=at)

    def add_commit(self, message: str | None = None, *, at: datetime | str | None = None) -> dict:
        n = self.next_id("commit")
        sha = hashlib.sha1(f"commit-{self.seed}-{n}".encode()).hexdigest()
        user = self.rng.choice(self.users)
        actor = {"name": user["login"].title(), "email": f"{user['login']}@example.com"}
        parents = [c["sha"] for c in self.commits.values()[-1:]]
        record = {
            "sha": sha,
            "node_id": node_id("C", n),
            "commit": {
                "author": dict(actor),
                "committer": dict(actor),
                "message": message or f"Improve {self.rng.choice(WORDS)}",
                "tree": {"sha": sha[::-1], "url": f"{self.api}/git/trees/{sha[::-1]}"},
                "url": f"{self.api}/git/commits/{sha}",
                "comment_count": 0,
                "verification": {"verified": False, "reason": "unsigned"},
            },
            "url": f"{self.api}/commits/{sha}",
            "html_url": f"https://github.com/{self.owner}/{self.repo_name}/commit/{sha}",
            "author": user,
            "committer": user,
            "parents": [
                {"sha": p, "url": f"{self.api}/commits/{p}", "html_url": f"{self.api}/commit/{p}"}
                for p in parents
            ],
        }
        commit = self.commits.add(record, at=at)
        if user["login"] in self.contributors:
            self.contributors.get(user["login"])["contributions"] += 1
        else:
            self.contributors.add({**user, "contributions": 1}, at=at)
        return commit

    def remove_contributor(self, login: str) -> None:
        self.contributors.delete(login)

    def set_rate_limit(self, remaining: int, reset_in: int = 60) -> int:
        """Leave `remaining` requests in the primary rate limit window; it refills `reset_in`
        simulated seconds from now. Returns the reset epoch."""
        with self.lock:
            self.rate_remaining = remaining
            self.rate_reset = int(self.clock.time()) + reset_in
            return self.rate_reset

    # ----- framework hooks ---------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> dict:
        return {"message": message, "documentation_url": DOCS, "status": str(status)}

    def check_auth(self, request):
        token = request.bearer_token(schemes=("bearer", "token"))
        if token is None:
            return Response.json(self.error_body(401, "Requires authentication"), status=401)
        if token != TOKEN:
            return Response.json(self.error_body(401, "Bad credentials"), status=401)
        return None

    def _rate_headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(self.rate_remaining),
            "X-RateLimit-Reset": str(self.rate_reset),
            "X-RateLimit-Used": str(self.rate_limit - self.rate_remaining),
            "X-RateLimit-Resource": "core",
        }

    def before_request(self, request):
        now = self.clock.time()
        if now >= self.rate_reset:
            self.rate_remaining = self.rate_limit
            self.rate_reset = int(now) + 3600
        if self.rate_remaining <= 0:
            body = {
                "message": "API rate limit exceeded for user ID 101.",
                "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
            }
            return Response.json(body, status=403, headers=self._rate_headers())
        self.rate_remaining -= 1
        return None

    def after_response(self, request, response):
        for name, value in self._rate_headers().items():
            response.headers.setdefault(name, value)

    # ----- routes ------------------------------------------------------------------------------

    def _check_repo(self, request) -> None:
        if (request.params["owner"], request.params["repo"]) != (self.owner, self.repo_name):
            raise HttpError(404, self.error_body(404, "Not Found"))

    def _since(self, request) -> str | None:
        since = request.arg("since")
        if since is None:
            return None
        try:
            datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise HttpError(422, self.error_body(422, "Validation Failed")) from None
        return since

    def _page(self, request, items: list) -> Response:
        per_page = request.int_arg("per_page", 30, minimum=1, maximum=self.max_per_page)
        page = request.int_arg("page", 1, minimum=1)
        chunk, more = paginate(items, page, per_page)
        last = max(1, -(-len(items) // per_page))
        links = {
            "prev": request.url_with(page=page - 1) if page > 1 else None,
            "next": request.url_with(page=page + 1) if more else None,
            "last": request.url_with(page=last) if more else None,
            "first": request.url_with(page=1) if page > 1 else None,
        }
        header = link_header(links)
        return Response.json(chunk, headers={"Link": header} if header else {})

    @staticmethod
    def _order(items: list[dict], request, default_sort: str, default_dir: str) -> list[dict]:
        sort = request.arg("sort", default_sort)
        field = {"created": "created_at", "updated": "updated_at"}.get(sort)
        if field is None:
            raise HttpError(422, {"message": "Validation Failed", "documentation_url": DOCS})
        direction = request.arg("direction", default_dir)
        return sorted(items, key=lambda r: (r[field], r["id"]), reverse=direction == "desc")

    @staticmethod
    def _state_filter(items: list[dict], request) -> list[dict]:
        state = request.arg("state", "open")
        return items if state == "all" else [r for r in items if r["state"] == state]

    def _pull_as_issue(self, pull: dict) -> dict:
        issue = {k: v for k, v in pull.items() if k not in ("head", "base", "merged", "draft")}
        number = pull["number"]
        issue["id"] = 2_000_000 + number
        issue["url"] = f"{self.api}/issues/{number}"
        issue["pull_request"] = {
            "url": pull["url"],
            "html_url": pull["html_url"],
            "diff_url": pull["html_url"] + ".diff",
            "patch_url": pull["html_url"] + ".patch",
            "merged_at": pull.get("merged_at"),
        }
        return issue

    @route("GET", "/repos/{owner}/{repo}")
    def get_repository(self, request):
        self._check_repo(request)
        open_issues = sum(1 for r in self.issues if r["state"] == "open")
        return {**self.repository, "open_issues_count": open_issues, "open_issues": open_issues}

    @route("GET", "/repos/{owner}/{repo}/issues")
    def list_issues(self, request):
        self._check_repo(request)
        since = self._since(request)
        items = self.issues.changed_since(since) + [
            self._pull_as_issue(p) for p in self.pulls.changed_since(since)
        ]
        items = self._state_filter(items, request)
        return self._page(request, self._order(items, request, "created", "desc"))

    @route("GET", "/repos/{owner}/{repo}/pulls")
    def list_pulls(self, request):
        self._check_repo(request)
        items = self._state_filter(self.pulls.values(), request)
        sort = request.arg("sort", "created")
        # GitHub: desc by default for sort=created, asc for the other sorts.
        default_dir = "desc" if sort == "created" else "asc"
        return self._page(request, self._order(items, request, "created", default_dir))

    @route("GET", "/repos/{owner}/{repo}/issues/comments")
    def list_comments(self, request):
        self._check_repo(request)
        items = self.comments.changed_since(self._since(request))
        return self._page(request, self._order(items, request, "created", "asc"))

    @route("GET", "/repos/{owner}/{repo}/commits")
    def list_commits(self, request):
        self._check_repo(request)
        since = self._since(request)
        bound = parse_time(since) if since else None
        items = [
            c
            for c in self.commits.values()
            if bound is None or parse_time(c["commit"]["committer"]["date"]) >= bound
        ]
        items.sort(key=lambda c: (c["commit"]["committer"]["date"], c["sha"]), reverse=True)
        return self._page(request, items)

    @route("GET", "/repos/{owner}/{repo}/contributors")
    def list_contributors(self, request):
        self._check_repo(request)
        items = sorted(self.contributors.values(), key=lambda c: (-c["contributions"], c["id"]))
        return self._page(request, items)
