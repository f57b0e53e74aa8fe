"""Spark schemas of the GitHub tables: the REST API's fields that matter for analytics.

Records are projected onto these schemas (extra API fields dropped, missing ones null), so a new
field in GitHub's responses never breaks a pipeline.
"""

from __future__ import annotations

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)


def _fields(*specs: tuple) -> StructType:
    """StructType from (name, type) or (name, type, nullable) tuples."""
    return StructType([StructField(s[0], s[1], s[2] if len(s) > 2 else True) for s in specs])


GITHUB_USER = _fields(
    ("login", StringType()),
    ("id", LongType()),
    ("node_id", StringType()),
    ("type", StringType()),
    ("site_admin", BooleanType()),
    ("html_url", StringType()),
    ("avatar_url", StringType()),
)

GITHUB_LABEL = _fields(
    ("id", LongType()),
    ("node_id", StringType()),
    ("name", StringType()),
    ("color", StringType()),
    ("description", StringType()),
    ("default", BooleanType()),
)

GITHUB_MILESTONE = _fields(
    ("id", LongType()),
    ("number", LongType()),
    ("title", StringType()),
    ("description", StringType()),
    ("state", StringType()),
    ("created_at", TimestampType()),
    ("updated_at", TimestampType()),
    ("due_on", TimestampType()),
    ("closed_at", TimestampType()),
    ("html_url", StringType()),
)

GITHUB_BRANCH_REF = _fields(
    ("label", StringType()),
    ("ref", StringType()),
    ("sha", StringType()),
    ("user", GITHUB_USER),
)

# Every record names the repository it came from, so one table can hold several repositories.
_REPO_FIELDS = (
    ("repository_owner", StringType(), False),
    ("repository_name", StringType(), False),
)

GITHUB_ISSUES = _fields(
    ("id", LongType(), False),
    ("node_id", StringType()),
    ("number", LongType()),
    ("title", StringType()),
    ("body", StringType()),
    ("state", StringType()),
    ("state_reason", StringType()),
    ("locked", BooleanType()),
    ("user", GITHUB_USER),
    ("labels", ArrayType(GITHUB_LABEL)),
    ("assignee", GITHUB_USER),
    ("assignees", ArrayType(GITHUB_USER)),
    ("milestone", GITHUB_MILESTONE),
    ("comments", LongType()),
    ("author_association", StringType()),
    ("created_at", TimestampType()),
    ("updated_at", TimestampType(), False),
    ("closed_at", TimestampType()),
    ("html_url", StringType()),
    ("url", StringType()),
    *_REPO_FIELDS,
)

GITHUB_PULL_REQUESTS = _fields(
    ("id", LongType(), False),
    ("node_id", StringType()),
    ("number", LongType()),
    ("title", StringType()),
    ("body", StringType()),
    ("state", StringType()),
    ("locked", BooleanType()),
    ("draft", BooleanType()),
    ("user", GITHUB_USER),
    ("labels", ArrayType(GITHUB_LABEL)),
    ("assignee", GITHUB_USER),
    ("assignees", ArrayType(GITHUB_USER)),
    ("requested_reviewers", ArrayType(GITHUB_USER)),
    ("milestone", GITHUB_MILESTONE),
    ("author_association", StringType()),
    ("head", GITHUB_BRANCH_REF),
    ("base", GITHUB_BRANCH_REF),
    ("merge_commit_sha", StringType()),
    ("created_at", TimestampType()),
    ("updated_at", TimestampType(), False),
    ("closed_at", TimestampType()),
    ("merged_at", TimestampType()),
    ("html_url", StringType()),
    ("url", StringType()),
    *_REPO_FIELDS,
)

_GIT_ACTOR = _fields(("name", StringType()), ("email", StringType()), ("date", TimestampType()))

GITHUB_COMMITS = _fields(
    ("sha", StringType(), False),
    ("node_id", StringType()),
    (
        "commit",
        _fields(
            ("author", _GIT_ACTOR),
            ("committer", _GIT_ACTOR),
            ("message", StringType()),
            ("comment_count", LongType()),
            ("tree", _fields(("sha", StringType()), ("url", StringType()))),
            ("verification", _fields(("verified", BooleanType()), ("reason", StringType()))),
        ),
    ),
    ("author", GITHUB_USER),
    ("committer", GITHUB_USER),
    (
        "parents",
        ArrayType(
            _fields(("sha", StringType()), ("url", StringType()), ("html_url", StringType()))
        ),
    ),
    ("html_url", StringType()),
    ("url", StringType()),
    # commit.committer.date lifted to the top: the cursor GitHub's `since` filters on.
    ("committed_at", TimestampType(), False),
    *_REPO_FIELDS,
)

GITHUB_REPOSITORY = _fields(
    ("id", LongType(), False),
    ("node_id", StringType()),
    ("name", StringType()),
    ("full_name", StringType()),
    ("owner", GITHUB_USER),
    ("private", BooleanType()),
    ("html_url", StringType()),
    ("description", StringType()),
    ("fork", BooleanType()),
    ("url", StringType()),
    ("homepage", StringType()),
    ("language", StringType()),
    ("default_branch", StringType()),
    ("visibility", StringType()),
    ("archived", BooleanType()),
    ("disabled", BooleanType()),
    ("size", LongType()),
    ("stargazers_count", LongType()),
    ("watchers_count", LongType()),
    ("forks_count", LongType()),
    ("open_issues_count", LongType()),
    ("subscribers_count", LongType()),
    ("has_issues", BooleanType()),
    ("has_projects", BooleanType()),
    ("has_wiki", BooleanType()),
    ("topics", ArrayType(StringType())),
    ("license", _fields(("key", StringType()), ("name", StringType()), ("spdx_id", StringType()))),
    ("created_at", TimestampType()),
    ("updated_at", TimestampType()),
    ("pushed_at", TimestampType()),
    *_REPO_FIELDS,
)

GITHUB_CONTRIBUTORS = _fields(
    ("id", LongType(), False),
    ("login", StringType()),
    ("node_id", StringType()),
    ("type", StringType()),
    ("site_admin", BooleanType()),
    ("html_url", StringType()),
    ("avatar_url", StringType()),
    ("contributions", LongType()),
    *_REPO_FIELDS,
)

GITHUB_ISSUE_COMMENTS = _fields(
    ("id", LongType(), False),
    ("node_id", StringType()),
    ("body", StringType()),
    ("user", GITHUB_USER),
    ("author_association", StringType()),
    ("created_at", TimestampType()),
    ("updated_at", TimestampType(), False),
    ("html_url", StringType()),
    ("url", StringType()),
    ("issue_url", StringType()),
    # The issue's number, parsed from issue_url, to join comments to issues.
    ("issue_number", LongType()),
    *_REPO_FIELDS,
)
