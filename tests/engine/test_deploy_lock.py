"""The workspace deploy lock, through the real SDK against the local workspace."""

from __future__ import annotations

import threading
import time

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config

from tools.lakeflow import deploy_lock
from tools.local_workspace import LocalWorkspace

FOLDER = "/Workspace/Users/local.developer@example.com/example"


@pytest.fixture
def client(tmp_path):
    with LocalWorkspace(tmp_path / "ws") as ws:
        yield WorkspaceClient(config=Config(host=ws.url, token=ws.token, retry_timeout_seconds=20))


def test_a_second_deployer_fails_naming_the_holder_after_the_bounded_wait(client):
    first = deploy_lock.acquire(client, FOLDER, "alice@example.com")
    started = time.monotonic()
    with pytest.raises(deploy_lock.DeployLocked) as error:
        deploy_lock.acquire(client, FOLDER, "bob@example.com", wait_seconds=0.6, poll_seconds=0.1)
    assert 0.5 <= time.monotonic() - started < 5
    message = str(error.value)
    assert "alice@example.com" in message and first["host"] in message
    assert "--force-lock" in message and deploy_lock.LOCK_FILE in message
    assert deploy_lock.read_holder(client, FOLDER)["token"] == first["token"]


def test_a_waiting_deployer_gets_the_lock_once_it_is_released(client):
    first = deploy_lock.acquire(client, FOLDER, "alice@example.com")
    threading.Timer(0.3, deploy_lock.release, (client, FOLDER, first)).start()
    second = deploy_lock.acquire(
        client, FOLDER, "bob@example.com", wait_seconds=10, poll_seconds=0.05
    )
    assert deploy_lock.read_holder(client, FOLDER)["owner"] == "bob@example.com"
    assert deploy_lock.release(client, FOLDER, second)
    assert deploy_lock.read_holder(client, FOLDER) is None


def test_force_takes_the_lock_over_and_the_old_holder_cannot_release_it(client, capsys):
    first = deploy_lock.acquire(client, FOLDER, "alice@example.com")
    second = deploy_lock.acquire(client, FOLDER, "ci@example.com", force=True)
    assert "taken over from alice@example.com" in capsys.readouterr().out
    assert not deploy_lock.release(client, FOLDER, first)
    assert deploy_lock.read_holder(client, FOLDER)["token"] == second["token"]
    assert deploy_lock.release(client, FOLDER, second)


def test_concurrent_deployers_never_hold_the_lock_together(client):
    inside, most, done = [0], [0], []
    guard = threading.Lock()

    def deployer(index: int) -> None:
        with deploy_lock.deploy_lock(
            client, FOLDER, f"user{index}", wait_seconds=30, poll_seconds=0.02
        ):
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.05)
            with guard:
                inside[0] -= 1
            done.append(index)

    threads = [threading.Thread(target=deployer, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(done) == [0, 1, 2, 3]
    assert most[0] == 1
    assert deploy_lock.read_holder(client, FOLDER) is None
