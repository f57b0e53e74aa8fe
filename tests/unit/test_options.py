"""Connection option resolution: environment, dev_config.json, defaults; hashing and masking."""

from __future__ import annotations

import json

import pytest

from tools.lakeflow import specs
from tools.lakeflow.connection import env_name, masked, options_hash, resolve_options
from tools.lakeflow.errors import LakeflowError


def resolve(repo):
    return resolve_options("demo", specs.load_connector_spec("demo", repo.root), repo.root)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("API_KEY", "REGION", "PAGE"):
        monkeypatch.delenv(f"LAKEFLOW_DEMO_{name}", raising=False)


def test_env_name_is_upper_case():
    assert env_name("zoho_crm", "client_id") == "LAKEFLOW_ZOHO_CRM_CLIENT_ID"


def test_a_required_parameter_without_a_value_names_both_places(repo):
    with pytest.raises(LakeflowError) as error:
        resolve(repo)
    assert error.value.file == "sources/demo/connector_spec.yaml"
    assert error.value.field == "connection.parameters.api_key"
    assert "sources/demo/configs/dev_config.json" in error.value.message
    assert "LAKEFLOW_DEMO_API_KEY" in error.value.message


def test_values_from_the_config_file_and_defaults(repo):
    repo.write("sources/demo/configs/dev_config.json", json.dumps({"api_key": "k1"}))
    options, secrets = resolve(repo)
    assert options == {
        "api_key": "k1",
        "region": "eu",
        "sourceName": "demo",
        "externalOptionsAllowList": "page_size,filter,tableName,tableNameList,tableConfigs,isDeleteFlow",
    }
    assert secrets == {"api_key"}


def test_the_environment_beats_the_config_file_and_the_default(repo, monkeypatch):
    repo.write(
        "sources/demo/configs/dev_config.json", json.dumps({"api_key": "k1", "region": "us"})
    )
    monkeypatch.setenv("LAKEFLOW_DEMO_API_KEY", "from-env")
    monkeypatch.setenv("LAKEFLOW_DEMO_PAGE", "3")
    options, _ = resolve(repo)
    assert (options["api_key"], options["region"], options["page"]) == ("from-env", "us", "3")


def test_optional_parameters_without_a_value_are_left_out(repo, monkeypatch):
    monkeypatch.setenv("LAKEFLOW_DEMO_API_KEY", "k")
    assert "page" not in resolve(repo)[0]


def test_non_string_config_values_become_strings(repo):
    repo.write("sources/demo/configs/dev_config.json", json.dumps({"api_key": 5, "page": True}))
    options, _ = resolve(repo)
    assert (options["api_key"], options["page"]) == ("5", "True")


@pytest.mark.parametrize(
    ("text", "message", "field"),
    [
        ("{not json", "not valid JSON", None),
        ("[1, 2]", "expected a JSON object", None),
        ('{"api_key": "k", "colour": "red"}', "unknown connection parameter", "colour"),
    ],
)
def test_a_bad_config_file_is_named(repo, text, message, field):
    repo.write("sources/demo/configs/dev_config.json", text)
    with pytest.raises(LakeflowError, match=message) as error:
        resolve(repo)
    assert error.value.file == "sources/demo/configs/dev_config.json"
    assert error.value.field == field


def test_the_unknown_parameter_error_lists_the_known_ones(repo):
    repo.write("sources/demo/configs/dev_config.json", '{"colour": "red"}')
    with pytest.raises(LakeflowError, match=r"has: api_key, page, region\)"):
        resolve(repo)


def test_options_hash_depends_on_salt_and_values_not_order():
    a = {"x": "1", "y": "2"}
    assert options_hash(a, "s") == options_hash({"y": "2", "x": "1"}, "s")
    assert options_hash(a, "s") != options_hash(a, "t")
    assert options_hash(a, "s") != options_hash({**a, "y": "3"}, "s")


def test_options_hash_does_not_contain_the_values():
    digest = options_hash({"api_key": "super-secret-value"}, "salt")
    assert len(digest) == 64 and "super-secret-value" not in digest


def test_masked_hides_secrets_and_the_allowlist():
    shown = masked({"api_key": "k", "region": "eu", "externalOptionsAllowList": "a,b"}, {"api_key"})
    assert shown == "api_key=***, region=eu"
