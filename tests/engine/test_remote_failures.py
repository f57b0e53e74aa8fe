"""Every failure talking to a workspace is one line with a hint, names the host and the target,
and comes fast. Only loopback is used: a closed port, a socket that listens and never answers, a
resolver failure simulated in-process, and the local workspace for HTTP-level failures."""

from __future__ import annotations

import socket
import time

import pytest
from doit.exceptions import TaskFailed

from tests.engine.doit_sandbox import DoitSandbox
from tools.lakeflow import sdk_client, specs, targets
from tools.lakeflow.doit_support import action
from tools.lakeflow.errors import LakeflowError
from tools.local_workspace import LocalWorkspace

ME = r"/scim/v2/Me"
FAST = 15  # seconds: the bound for any unreachable host


def failure(capsys, target: targets.Target, call=lambda client: client.current_user.me()):
    """Run `call` on a client for `target` the way a doit task runs: (stderr lines, seconds)."""
    run = action(lambda: call(targets.workspace_client(target)))[0]
    started = time.monotonic()
    result = run()
    elapsed = time.monotonic() - started
    assert isinstance(result, TaskFailed)
    return capsys.readouterr().err.strip().splitlines(), elapsed


def remote(host: str) -> targets.Target:
    return targets.Target(name="prod", kind="databricks", host=host)


def local(ws: LocalWorkspace) -> targets.Target:
    return remote(ws.url)


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    """The SDK's unified auth takes a token from the environment; never the user's own config."""
    monkeypatch.setenv("DATABRICKS_TOKEN", "not-a-real-token")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", "/nonexistent/databrickscfg")


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    with LocalWorkspace(tmp_path / "ws") as ws:
        monkeypatch.setenv("DATABRICKS_TOKEN", ws.token)
        yield ws


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_closed_port_fails_fast_in_one_line(capsys):
    host = f"http://127.0.0.1:{free_port()}"
    lines, elapsed = failure(capsys, remote(host))
    assert lines == [
        f"error: cannot reach {host} (target 'prod'): connection refused "
        "(hint: check the host of targets.prod in targets.yaml, and your network)"
    ]
    assert elapsed < FAST


def test_a_host_that_does_not_resolve_fails_fast_in_one_line(capsys, monkeypatch):
    resolve = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "workspace.example.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    lines, elapsed = failure(capsys, remote("https://workspace.example.invalid"))
    assert len(lines) == 1
    assert "cannot reach https://workspace.example.invalid (target 'prod')" in lines[0]
    assert "does not resolve" in lines[0] and "hint:" in lines[0]
    assert elapsed < FAST


def test_a_host_that_accepts_and_never_answers_fails_within_15_seconds(capsys, monkeypatch):
    """Waited with a 2 s HTTP timeout instead of the product's: what the failure costs beyond its
    timeout, added to the product's timeout, must stay under the bound."""
    product_timeout = sdk_client.HTTP_TIMEOUT_SECONDS
    monkeypatch.setattr(sdk_client, "HTTP_TIMEOUT_SECONDS", 2)
    with socket.socket() as silent:  # the kernel accepts into the backlog; nobody ever answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        lines, elapsed = failure(capsys, remote(host))
    assert lines == [
        f"error: cannot reach {host} (target 'prod'): no answer within 2 s "
        "(hint: check the host of targets.prod in targets.yaml, and your network)"
    ]
    assert 2 <= elapsed and elapsed - 2 + product_timeout < FAST


def test_a_deploy_to_an_unreachable_host_prints_one_line_and_no_traceback(tmp_path):
    """The user's view: `doit deploy` names the host and the target once, then stops."""
    host = f"http://127.0.0.1:{free_port()}"
    box = DoitSandbox(tmp_path, sources=("example",))
    (box.root / "targets.yaml").write_text(
        f"default: prod\ntargets:\n  prod:\n    kind: databricks\n    host: {host}\n"
    )
    result = box.doit("deploy:example", check=False, env={"DATABRICKS_TOKEN": "t"})
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: cannot reach {host} (target 'prod'): connection refused "
        "(hint: check the host of targets.prod in targets.yaml, and your network)"
    ]


@pytest.mark.parametrize(
    ("host", "hint"),
    [
        ("workspace.cloud.databricks.com", "did you mean https://workspace.cloud.databricks.com?"),
        ("https://", "expected https://<host>"),
        ("ftp://workspace.example.com", "expected https://<host>"),
        ("https://work space.example.com", "expected https://<host>"),
        ("https://workspace.example.com:port", "expected https://<host>"),
    ],
)
def test_a_host_that_is_not_a_url_is_named_with_a_hint(capsys, host, hint):
    lines, _ = failure(capsys, remote(host))
    assert lines == [
        f"error: targets.yaml: targets.prod.host: {host!r} is not a URL (hint: {hint})"
    ]


def test_bad_credentials_are_one_line_naming_the_target(capsys, workspace, monkeypatch):
    monkeypatch.setenv("DATABRICKS_TOKEN", "a-stale-token")
    lines, _ = failure(capsys, local(workspace))
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {workspace.url} (target 'prod'): ")
    assert "(401)" in lines[0] and "token or profile" in lines[0]


def test_a_forbidden_request_is_one_line_with_a_hint(capsys, workspace):
    workspace.inject_fault("GET", ME, status=403)
    lines, _ = failure(capsys, local(workspace))
    assert len(lines) == 1 and "(403)" in lines[0] and "lacks the permission" in lines[0]


def test_a_name_taken_by_someone_else_is_one_line_with_a_hint(capsys, workspace):
    def create_connection(client):
        body = {"name": "taken", "connection_type": "GENERIC_LAKEFLOW_CONNECT", "options": {}}
        client.api_client.do("POST", "/api/2.1/unity-catalog/connections", body=body)
        client.api_client.do("POST", "/api/2.1/unity-catalog/connections", body=body)

    lines, _ = failure(capsys, local(workspace), create_connection)
    assert len(lines) == 1
    assert "Connection 'taken' already exists" in lines[0] and "(409)" in lines[0]
    assert "rename it" in lines[0]


def test_retry_after_within_the_cap_is_honoured_beyond_the_retry_budget(workspace):
    """A 429 asking for more than the transport retry budget is still waited out, not cut."""
    asked = sdk_client.TRANSPORT_RETRY_SECONDS + 1
    workspace.inject_fault("GET", ME, status=429, retry_after=asked)
    client = targets.workspace_client(local(workspace))
    started = time.monotonic()
    assert client.current_user.me().user_name
    assert time.monotonic() - started >= asked
    statuses = [r["status"] for r in workspace.requests() if r["path"].endswith("/Me")]
    assert statuses == [429, 200]


def test_retry_after_beyond_the_cap_is_reported_not_waited(capsys, workspace, monkeypatch):
    monkeypatch.setenv(sdk_client.MAX_RETRY_AFTER_ENV, "2")
    workspace.inject_fault("GET", ME, status=429, retry_after=30)
    lines, elapsed = failure(capsys, local(workspace))
    assert lines == [
        f"error: {workspace.url} (target 'prod') is throttling requests and asked to wait 30 s, "
        f"more than the cap of 2 s (hint: deploy again later, or raise {sdk_client.MAX_RETRY_AFTER_ENV})"
    ]
    assert elapsed < 2


def test_endless_throttling_still_ends(capsys, workspace, monkeypatch):
    monkeypatch.setenv(sdk_client.MAX_RETRY_AFTER_ENV, "1")
    workspace.inject_fault("GET", ME, status=429, retry_after=1, times=100)
    lines, elapsed = failure(capsys, local(workspace))
    assert len(lines) == 1 and "(429)" in lines[0]
    assert elapsed < FAST


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "connection_name: example_connection",
            "connection_name: example connection",
            "connection_name",
        ),
        ("catalog: main", "catalog: main.sub", "destination.catalog"),
        ("source_table: products", "source_table: sales/products", "objects[0].table.source_table"),
        (
            "destination_table: example_events",
            'destination_table: "example\\tevents"',
            "objects[3].table.destination_table",
        ),
    ],
)
def test_names_that_unity_catalog_refuses_are_rejected_from_the_spec(tmp_path, old, new, field):
    source = tmp_path / "sources" / "example"
    source.mkdir(parents=True)
    for name in ("pipeline_spec.yaml", "connector_spec.yaml"):
        text = (targets.project.source_dir("example") / name).read_text()
        (source / name).write_text(text.replace(old, new) if name == "pipeline_spec.yaml" else text)
    assert old in (targets.project.source_dir("example") / "pipeline_spec.yaml").read_text()
    with pytest.raises(LakeflowError) as error:
        specs.load_pipeline_spec("example", tmp_path)
    assert error.value.file == "sources/example/pipeline_spec.yaml"
    assert error.value.field == field
    assert "not a valid Unity Catalog" in error.value.message


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("catalog: my catalog", "targets.dev.catalog"),
        ("schema: '{user}.{source}'", "targets.dev.schema"),
    ],
)
def test_names_that_unity_catalog_refuses_are_rejected_from_targets(tmp_path, line, field):
    (tmp_path / "targets.yaml").write_text(f"targets:\n  dev:\n    kind: local\n    {line}\n")
    with pytest.raises(LakeflowError) as error:
        targets.load_targets(tmp_path)
    assert (error.value.file, error.value.field) == ("targets.yaml", field)
