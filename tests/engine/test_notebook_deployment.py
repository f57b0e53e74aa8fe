"""Notebook-based deployment: CSV/presets → notebooks → bundle YAML → local workspace."""

from __future__ import annotations

import base64
import importlib
import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.service.workspace import ImportFormat, Language

from tests.engine.doit_sandbox import DoitSandbox
from tests.engine.test_ingestion_pipeline import FakeSpark, Recorder
from tools.lakeflow import connection, project
from tools.lakeflow.errors import LakeflowError
from tools.local_workspace import LocalWorkspace
from tools.notebook_based_deployment import bundle, deployer, generate, presets, schedule
from tools.notebook_based_deployment.generate_dlt_notebooks_generic import main as generate_cli
from tools.notebook_based_deployment.metadata_csv import parse_rows, read_csv
from tools.notebook_based_deployment.notebooks import ConnectorConfig, render_notebook

EXAMPLE_PRESET = project.source_dir("example") / "deployment" / "deploy_preset.json"
HEADER = "source_table,pipeline_group"


def preset_variant(tmp_path: Path, **changes) -> Path:
    data = json.loads(EXAMPLE_PRESET.read_text())
    data.update(changes)
    shutil.copy(EXAMPLE_PRESET.parent / "tables.csv", tmp_path / "tables.csv")
    path = tmp_path / "deploy_preset.json"
    path.write_text(json.dumps(data))
    return path


MODES = {
    "static": {"csv": {"mode": "static", "path": "tables.csv"}},
    "discover": {"csv": {"mode": "discover"}},
    "manual": {"csv": {"mode": "manual", "tables": "customers,orders", "schedule": "0 6 * * 1-5"}},
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_each_csv_mode_gives_compiling_notebooks_and_schema_valid_yaml(tmp_path, mode):
    preset = presets.load_preset(preset_variant(tmp_path, **MODES[mode]))
    rows = presets.preset_rows(preset)
    config = preset.connector_config
    groups = {row.pipeline_group for row in rows}
    for group in groups:
        group_rows = [r for r in rows if r.pipeline_group == group]
        text = render_notebook("example", group, group_rows, "/Volumes/c/s/v/example", config)
        assert text.startswith("# Databricks notebook source")
        compile(text, f"{group}.py", "exec")
        assert "dbutils.secrets.get(scope, key)" in text and "'legacy_example_key'" in text
    resources, root = bundle.bundle_documents(
        "example", rows, pipeline=preset.bundle_pipeline_settings, jobs=preset.jobs
    )
    bundle.validate_bundle_document(resources, "resources")
    bundle.validate_bundle_document(root, "databricks.yml")
    pipelines = resources["resources"]["pipelines"]
    assert set(pipelines) == {f"example_{g}" for g in groups}
    for spec in pipelines.values():
        assert "target" not in spec and spec["schema"] == "${var.destination_schema}"
        assert spec["libraries"][0]["notebook"]["path"].endswith(".py")
    for key, job in resources["resources"].get("jobs", {}).items():
        pipeline_key = key.removesuffix("_schedule")
        task = job["tasks"][0]["pipeline_task"]
        assert task["pipeline_id"] == f"${{resources.pipelines.{pipeline_key}.id}}"
    if mode == "discover":
        assert groups == {"snapshot", "cdc", "cdc_with_deletes", "append"}
        assert {r.source_table: r.primary_keys for r in rows}["orders"] == ["id"]
    if mode == "manual":
        job = resources["resources"]["jobs"]["example_main_schedule"]
        assert job["schedule"]["quartz_cron_expression"] == "0 0 6 ? * 2-6"


@pytest.mark.parametrize(
    ("cron", "quartz"),
    [
        ("*/15 * * * *", "0 */15 * * * ?"),
        ("0 3 * * *", "0 0 3 * * ?"),
        ("30 6 * * 1-5", "0 30 6 ? * 2-6"),
        ("0 0 * * 0", "0 0 0 ? * 1"),
        ("0 0 * * 7", "0 0 0 ? * 1"),
        ("0 12 1 * *", "0 0 12 1 * ?"),
        ("0 8 * jan mon,wed", "0 0 8 ? 1 2,4"),
        ("0 0 * * */2", "0 0 0 ? * 1,3,5,7"),
        ("0 0 * * 5-7", "0 0 0 ? * 1,6-7"),  # Friday to Sunday
        ("0 0 * * sun", "0 0 0 ? * 1"),
        ("0 0 * * 0-7", "0 0 0 * * ?"),  # every day is no restriction
        ("0 22-2 * * *", "0 0 0-2,22-23 * * ?"),  # a range through midnight
        ("0,30 9-17/2 * 1-6 *", "0 0,30 9,11,13,15,17 * 1-6 ?"),
    ],
)
def test_cron_converts_to_quartz(cron, quartz):
    assert schedule.quartz_cron(cron) == quartz


@pytest.mark.parametrize(
    ("cron", "field"),
    [
        ("61 * * * *", "minute"),
        ("0 24 * * *", "hour"),
        ("0 0 0 * *", "day of month"),
        ("0 0 32 * *", "day of month"),
        ("0 0 * 13 *", "month"),
        ("0 0 * foo *", "month"),
        ("* * * * 8", "day of week"),
        ("0 0 ? * *", "day of month"),
        ("0 0 * * ?", "day of week"),
        ("0 0 1 * 1", "day of week"),  # day of month together with day of week
        ("0 0 L * *", "day of month"),
        ("*/0 * * * *", "minute"),
        ("1,,2 * * * *", "minute"),
    ],
)
def test_bad_schedules_name_the_csv_its_row_as_an_editor_counts_and_the_field(cron, field):
    text = f'{HEADER},schedule\n\nproducts,g,0 3 * * *\n\norders,h,"{cron}"\n'
    with pytest.raises(LakeflowError) as error:
        parse_rows(text, "tables.csv")
    # header row 1, blank 2, products 3, blank 4, orders 5
    assert str(error.value).startswith(f"tables.csv: row 5, column schedule: {field}:")


def test_a_schedule_with_the_wrong_number_of_fields():
    with pytest.raises(LakeflowError, match="row 2, column schedule: expected 5 fields"):
        parse_rows(f"{HEADER},schedule\na,g,0 0 * * * *\n", "tables.csv")


def test_many_secret_aliases_and_table_configuration_reach_the_notebook():
    rows = parse_rows(
        f"{HEADER},scd_type,primary_keys,sequence_by,table_options_json\n"
        'orders,g,SCD_TYPE_2,"[""id"",""ts""]",ts,"{""filter"": ""a,b,c""}"\n'
    )
    config = ConnectorConfig.parse(
        {"secrets_scope": "s", "secret_mappings": {"api_key": ["k1", "k2", "k3", "k4", "k5"]}},
        "config",
    )
    text = render_notebook("example", "g", rows, "/Volumes/x", config)
    compile(text, "g.py", "exec")
    assert "['k1', 'k2', 'k3', 'k4', 'k5']" in text
    spec = re.search(r"PIPELINE_SPEC = (\{.*?\})\n\n", text, re.DOTALL).group(1)
    assert "'scd_type': 'SCD_TYPE_2'" in spec and "'primary_keys': '[\"id\", \"ts\"]'" in spec
    assert "'sequence_by': 'ts'" in spec and "'filter': 'a,b,c'" in spec


def test_the_generated_notebook_reads_secrets_first_found_wins_and_ingests(tmp_path, monkeypatch):
    rows = parse_rows(f"{HEADER},scd_type\ncustomers,g,SCD_TYPE_2\norders,g,\n")
    config = ConnectorConfig.parse(
        {
            "secrets_scope": "scope",
            "secret_mappings": {"api_key": ["missing_one", "present", "also_present"]},
            "static_options": {"seed": "3"},
        },
        "config",
    )
    connector_dir = tmp_path / "volume"
    connector_dir.mkdir()
    shutil.copy(project.generated_file("example"), connector_dir)
    text = render_notebook("example", "g", rows, str(connector_dir), config)
    assert "secret-value" not in text

    class Secrets:
        def get(self, scope, key):
            assert scope == "scope"
            if key == "missing_one":
                raise KeyError(key)
            return f"secret-value-of-{key}"

    dp = Recorder()
    monkeypatch.setitem(sys.modules, "pyspark.pipelines", dp)
    import pyspark

    monkeypatch.setattr(pyspark, "pipelines", dp, raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    spark = FakeSpark()
    registered = []
    spark.dataSource = type(
        "Registry", (), {"register": lambda self, cls: registered.append(cls)}
    )()
    namespace = {"spark": spark, "dbutils": type("DBUtils", (), {"secrets": Secrets()})()}
    exec(compile(text, "g.py", "exec"), namespace)
    assert registered and registered[0].connector_class.__name__ == "ExampleLakeflowConnect"
    assert namespace["reader_options"] == {"seed": "3", "api_key": "secret-value-of-present"}
    flows = [kwargs for name, kwargs in dp.calls if name == "create_auto_cdc_flow"]
    assert [f["target"] for f in flows] == ["customers", "orders", "orders"]
    assert flows[0]["stored_as_scd_type"] == 2
    view = dp.views["customers_lakeflow_source"]()
    assert view.options_seen["api_key"] == "secret-value-of-present"
    assert "databricks.connection" not in view.options_seen


@pytest.mark.parametrize(
    ("csv_text", "where"),
    [
        (f"{HEADER},colour\na,g,red\n", "row 1, column colour"),
        ("source_table\na\n", "row 1, column pipeline_group"),
        (f"{HEADER}\na,\n", "row 2, column pipeline_group"),
        (f"{HEADER},scd_type\na,g,SCD_TYPE_1\nb,g,SCD_3\n", "row 3, column scd_type"),
        (f"{HEADER},schedule\na,g,every hour\n", "row 2, column schedule"),
        (f"{HEADER},table_options_json\na,g,{{not json}}\n", "row 2, column table_options_json"),
        (f'{HEADER},table_options_json\na,g,{{"x": "1", "y": "2"}}\n', "row 2, column (extra)"),
        (f"{HEADER},primary_keys\na,g,[1]\n", "row 2, column primary_keys"),
        (f"{HEADER},weight\na,g,heavy\n", "row 2, column weight"),
        (f"{HEADER}\na,g\na,h\n", "row 3, column destination_table"),
    ],
)
def test_bad_csvs_are_rejected_naming_row_and_column(csv_text, where):
    with pytest.raises(LakeflowError) as error:
        parse_rows(csv_text, "tables.csv")
    assert str(error.value).startswith(f"tables.csv: {where}:")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"colour": "red"}, "<root>"),
        ({"csv": {"mode": "sometimes"}}, "csv.mode"),
        ({"csv": {"mode": "static"}}, "csv"),
        ({"csv": {"mode": "manual"}}, "csv"),
        ({"storage": {}}, "storage"),
        ({"storage": {"uc_volume_name": "v", "size": "1"}}, "storage"),
        ({"jobs": {"pause": "yes"}}, "jobs.pause"),
        ({"connector_name": "nope"}, "connector_name"),
        ({"generated_source_rel_path": "sources/example/missing.py"}, "generated_source_rel_path"),
        ({"connector_config": {"secret_mappings": {"api_key": ["k"]}}}, "secrets_scope"),
    ],
)
def test_bad_presets_are_rejected_with_one_clear_error(tmp_path, changes, field):
    path = preset_variant(tmp_path, **changes)
    with pytest.raises(LakeflowError) as error:
        presets.load_preset(path)
    assert field in str(error.value)


def test_missing_required_preset_field(tmp_path):
    data = json.loads(EXAMPLE_PRESET.read_text())
    del data["connector_config"]
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(LakeflowError, match="'connector_config' is a required property"):
        presets.load_preset(path)


def test_the_shipped_bundle_schema_matches_the_databricks_bundles_classes():
    pytest.importorskip("databricks.bundles")
    from tools.notebook_based_deployment.bundle_schema import render_schema

    assert bundle.SCHEMA_FILE.read_text() == render_schema()


def test_the_schema_rejects_the_deprecated_target_mix_and_unknown_fields():
    with pytest.raises(LakeflowError, match="colour"):
        bundle.validate_bundle_document(
            {"resources": {"pipelines": {"p": {"name": "p", "colour": "red"}}}}, "x.yml"
        )
    with pytest.raises(LakeflowError):
        bundle.validate_bundle_document(
            {"resources": {"jobs": {"j": {"schedule": {"quartz_cron_expression": 5}}}}}, "x.yml"
        )


def test_cli_generates_notebooks_and_bundle(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"secrets_scope": "s", "secret_mappings": {"api_key": "k"}}))
    code = generate_cli(
        [
            "--connector-name", "example",
            "--input-csv", str(EXAMPLE_PRESET.parent / "tables.csv"),
            "--output-dir", str(tmp_path / "out"),
            "--connector-path", "/Volumes/main/example/connectors/example",
            "--connector-config", str(config),
            "--generate-all-groups",
        ]
    )  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "out" / "notebooks").iterdir()) == [
        "activity.py", "crm.py", "reference.py",
    ]  # fmt: skip
    document = yaml.safe_load(
        (tmp_path / "out" / "resources" / "example_pipelines.yml").read_text()
    )
    bundle.validate_bundle_document(document, "resources")
    assert (tmp_path / "out" / "databricks.yml").is_file()
    bad = tmp_path / "bad.csv"
    bad.write_text("source_table,colour\na,b\n")
    args = ["--connector-name", "example", "--input-csv", str(bad), "--output-dir", str(tmp_path)]
    assert generate_cli([*args, "--connector-path", "/x", "--generate-all-groups"]) == 1


def test_deploying_twice_to_the_local_workspace_writes_nothing_the_second_time(tmp_path):
    box = DoitSandbox(tmp_path, sources=("example",))
    first = box.doit("notebook_deploy:example")
    assert "notebook deploy example: 15 changes (15 created," in first.stdout
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        before = len(ws.requests())
    second = box.doit("notebook_deploy:example")
    assert "notebook deploy example: 0 changes" in second.stdout
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        new = ws.requests()[before:]
    assert new and [r for r in new if r["method"] in {"POST", "PUT", "PATCH", "DELETE"}] == []
    # A changed CSV row: `notebook_plan` shows the job update (applying it: the drift tests).
    csv_file = box.root / "sources/example/deployment/tables.csv"
    csv_file.write_text(csv_file.read_text().replace("0 3 * * *", "0 4 * * *"))
    plan = box.doit("notebook_plan:example")
    assert "update    job example_reference_schedule (changed)" in plan.stdout
    assert "Plan: 0 to add, 1 to change, 0 to delete, 13 unchanged" in plan.stdout


@pytest.mark.parametrize("connector", project.source_names())
def test_every_connector_has_a_preset_that_generates_valid_output(connector):
    preset = presets.load_preset(presets.preset_path(connector))
    rows = presets.preset_rows(preset)
    for group in {r.pipeline_group for r in rows}:
        group_rows = [r for r in rows if r.pipeline_group == group]
        compile(
            render_notebook(connector, group, group_rows, "/Volumes/x", preset.connector_config),
            group,
            "exec",
        )
    resources, root = bundle.bundle_documents(
        connector, rows, preset.bundle_pipeline_settings, preset.jobs
    )
    bundle.validate_bundle_document(resources, "resources")
    bundle.validate_bundle_document(root, "databricks.yml")


# -- CSV as people save it -----------------------------------------------------------------------
def test_an_excel_csv_utf8_file_with_bom_crlf_and_padded_rows_is_read(tmp_path):
    path = tmp_path / "tables.csv"
    text = (
        "source_table,pipeline_group,schedule,,\r\n"
        "Kunden,crm,*/15 * * * *,,\r\n"
        ",,,,\r\n"  # an empty spreadsheet row
        "Aufträge,crm,,,\r\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    rows = read_csv(path, "tables.csv")
    assert [(r.row, r.source_table, r.schedule) for r in rows] == [
        (2, "Kunden", "*/15 * * * *"),
        (4, "Aufträge", None),
    ]


def test_a_file_that_is_not_utf8_names_the_encoding_and_the_line(tmp_path):
    path = tmp_path / "tables.csv"
    path.write_bytes("source_table,pipeline_group\nproducts,g\nAufträge,g\n".encode("cp1252"))
    with pytest.raises(LakeflowError) as error:
        read_csv(path, "tables.csv")
    assert str(error.value).startswith("tables.csv: line 3: not UTF-8: byte 0xe4")
    assert "CSV UTF-8" in str(error.value)


@pytest.mark.parametrize(
    ("csv_text", "where", "says"),
    [
        ("source_table,pipeline_group,source_table\na,g,b\n", "row 1, column source_table", "twice"),
        ("products,g\norders,g\n", "row 1, column products", "no header row"),
        ("", "", "empty file"),
        (f"{HEADER},destination_table\n,g,x\n", "row 2, column source_table", "required"),
        (f"{HEADER}\na,g\n\nb,g\n\na,g\n", "row 6, column source_table", "row 2"),
        (f"{HEADER}\n\n\na,\n", "row 4, column pipeline_group", "required"),
        (f"{HEADER},table_options_json\na,g,[1]\n", "row 2, column table_options_json", "object"),
        (f'{HEADER},table_options_json\na,g,"{{""n"": 5}}"\n', "row 2, column table_options_json", "'n'"),
        (f'{HEADER},table_options_json\na,g,"{{""x"": {{}}}}"\n', "row 2, column table_options_json", "string"),
        (f'{HEADER},table_options_json\na,g,"{{""api_token"": ""t""}}"\n', "row 2, column table_options_json", "secret_mappings"),
        (f"{HEADER},\na,g,stray\n", "row 2, column #3", "without a header"),
        (f'{HEADER},schedule\na,g,0 * * * *\nb,g,"0 1 * * *"\n', "row 3, column schedule", "row 2"),
    ],
)  # fmt: skip
def test_spreadsheet_mistakes_are_errors_naming_the_row_and_column(csv_text, where, says):
    with pytest.raises(LakeflowError) as error:
        parse_rows(csv_text, "tables.csv")
    message = str(error.value)
    assert message.startswith(f"tables.csv: {where}:" if where else "tables.csv: ")
    assert says in message


def test_a_record_spanning_lines_is_numbered_by_its_first_line():
    text = f'{HEADER},table_options_json\na,g,"{{\n""x"": ""1""\n}}"\nb,\n'
    with pytest.raises(LakeflowError, match="row 5, column pipeline_group"):
        parse_rows(text, "tables.csv")


# -- a repo root of one connector, for generating and deploying in-process ------------------------
def connector_root(tmp_path: Path, connector: str = "example", **preset_changes) -> Path:
    """tmp_path as a repo root holding `connector` (and what notebooks load besides it)."""
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "configs", "test")
    shutil.copytree(project.source_dir(connector), root / "sources" / connector, ignore=ignore)
    for folder in ("libs", "pipeline"):
        shutil.copytree(project.REPO_ROOT / folder, root / folder, ignore=ignore)
    preset_file = presets.preset_path(connector, root)
    data = json.loads(preset_file.read_text())
    for key, value in preset_changes.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) and key in data else value
    preset_file.write_text(json.dumps(data, indent=1))
    return root


def files_under(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# -- secrets -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("connector", "static", "option"),
    [
        ("example", {"api_key": "k"}, "api_key"),  # secret in the spec and by name
        ("zoho_crm", {"client_secret": "s"}, "client_secret"),
        ("github", {"token": "ghp_x"}, "token"),
        ("osipi", {"db_password": "p"}, "db_password"),  # by name only
    ],
)
def test_secret_options_in_static_options_are_refused_pointing_to_secret_mappings(
    tmp_path, connector, static, option
):
    root = connector_root(tmp_path, connector)
    path = presets.preset_path(connector, root)
    data = json.loads(path.read_text())
    data["connector_config"]["secret_mappings"].pop(option, None)
    data["connector_config"]["static_options"].update(static)
    path.write_text(json.dumps(data))
    with pytest.raises(LakeflowError) as error:
        presets.load_preset(path, root)
    message = str(error.value)
    assert f"static_options.{option}:" in message and "secret_mappings" in message
    assert f"sources/{connector}/deployment/deploy_preset.json" in message


def test_an_option_the_spec_marks_secret_is_refused_whatever_its_name(tmp_path):
    root = connector_root(tmp_path)
    spec = root / "sources/example/connector_spec.yaml"
    spec.write_text(
        spec.read_text().replace("- name: seed\n", "- name: seed\n      secret: true\n")
    )
    with pytest.raises(LakeflowError, match="static_options.seed: 'seed' holds a secret"):
        presets.load_preset(presets.preset_path("example", root), root)


def test_the_cli_refuses_secret_static_options_too(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"static_options": {"api_key": "abc"}}))
    args = ["--connector-name", "example", "--input-csv", str(EXAMPLE_PRESET.parent / "tables.csv")]
    args += ["--output-dir", str(tmp_path / "out"), "--connector-path", "/x"]
    assert generate_cli([*args, "--connector-config", str(config), "--generate-all-groups"]) == 1
    assert not (tmp_path / "out").exists()


def test_generated_notebooks_and_deploy_state_never_hold_a_secret_value(tmp_path, monkeypatch):
    """Discovery really uses the connector's credentials; none reaches build/ or the state."""
    secret = "s3cr3t-value-7f1d"
    root = connector_root(tmp_path, csv={"mode": "discover"})
    (root / "sources/example/configs").mkdir()
    (root / "sources/example/configs/dev_config.json").write_text(json.dumps({"api_key": secret}))
    used = []
    from sources.example import example

    original = example.ExampleLakeflowConnect.__init__

    def remember(self, options):
        used.append(options.get("api_key"))
        original(self, options)

    monkeypatch.setattr(example.ExampleLakeflowConnect, "__init__", remember)
    generated = generate.generate_from_preset("example", root)
    assert used == [secret]  # the discovery connector got the real credential
    written = files_under(root / "build")
    assert written and all(secret.encode() not in content for content in written.values())
    for text in generated.notebooks.values():
        assert secret not in text and "dbutils.secrets.get(scope, key)" in text


# -- discover ------------------------------------------------------------------------------------
@pytest.mark.parametrize("connector", project.source_names())
def test_discover_lists_every_connectors_tables_with_credentials_from_the_environment(
    tmp_path, monkeypatch, connector
):
    case_module = importlib.import_module(f"sources.{connector}.test.spark_case")
    with case_module.spark_case() as case:
        for option, value in case.options.items():
            monkeypatch.setenv(connection.env_name(connector, option), value)
        discover = {"group_by": "ingestion_type", "table_options": case.table_options}
        root = connector_root(tmp_path, connector, csv={"mode": "discover"}, discover=discover)
        preset = presets.load_preset(presets.preset_path(connector, root), root)
        rows = presets.preset_rows(preset, root)
        oracle = presets._connector_class(connector)(case.options)
        assert sorted(r.source_table for r in rows) == sorted(oracle.list_tables())
        for row in rows:
            assert row.pipeline_group == row.ingestion_type
            assert row.ingestion_type in ("snapshot", "cdc", "cdc_with_deletes", "append")


def test_discover_reads_oauth_credentials_from_dev_config(tmp_path, monkeypatch):
    from sources.zoho_crm.test.simulator import (
        CLIENT_ID,
        CLIENT_SECRET,
        REFRESH_TOKEN,
        ZohoSimulator,
    )

    for option in ("client_id", "client_secret", "refresh_token", "accounts_url", "api_url"):
        monkeypatch.delenv(connection.env_name("zoho_crm", option), raising=False)
    root = connector_root(tmp_path, "zoho_crm", csv={"mode": "discover"}, discover={})
    preset = presets.load_preset(presets.preset_path("zoho_crm", root), root)
    with pytest.raises(LakeflowError) as error:
        presets.preset_rows(preset, root)
    message = str(error.value)
    assert message.startswith("sources/zoho_crm/deployment/deploy_preset.json: csv.mode:")
    assert (
        "client_secret, refresh_token" in message and "LAKEFLOW_ZOHO_CRM_REFRESH_TOKEN" in message
    )
    assert "client_id" not in message.split("to list")[0]  # the preset's static_options has it
    assert not (root / "build").exists()
    with ZohoSimulator(seed=2, per_module=2) as sim:
        config = root / "sources/zoho_crm/configs/dev_config.json"
        config.parent.mkdir()
        values = {"client_secret": CLIENT_SECRET, "refresh_token": "wrong"}
        config.write_text(json.dumps({**values, "accounts_url": sim.url, "api_url": sim.url}))
        with pytest.raises(LakeflowError, match="csv.mode: discover: listing the tables failed"):
            presets.preset_rows(preset, root)  # one clear error, not a traceback
        # dev_config.json wins over the preset's static client_id, like the environment would.
        values.update(client_id=CLIENT_ID, refresh_token=REFRESH_TOKEN)
        config.write_text(json.dumps({**values, "accounts_url": sim.url, "api_url": sim.url}))
        rows = presets.preset_rows(preset, root)
    assert {"Leads", "Contacts"} <= {r.source_table for r in rows}


@pytest.mark.parametrize("group_by", ["category", "none"])
def test_discover_grouping_tables_of_different_schedules_into_one_pipeline_is_an_error(
    tmp_path, group_by
):
    root = connector_root(tmp_path, csv={"mode": "discover"}, discover={"group_by": group_by})
    preset = presets.load_preset(presets.preset_path("example", root), root)
    with pytest.raises(LakeflowError) as error:
        presets.preset_rows(preset, root)
    message = str(error.value)
    assert message.startswith("sources/example/deployment/deploy_preset.json: discover.group_by:")
    assert "products (snapshot)" in message and "customers (cdc)" in message
    assert "0 3 * * *" in message and "*/15 * * * *" in message


def test_discover_schedules_are_validated_in_the_preset(tmp_path):
    discover = {"schedules": {"cdc": "*/15 * * * *", "append": "0 0 ? * *"}}
    root = connector_root(tmp_path, csv={"mode": "discover"}, discover=discover)
    with pytest.raises(LakeflowError, match=r"discover\.schedules\.append: day of month: '\?'"):
        presets.load_preset(presets.preset_path("example", root), root)


# -- validate before writing ---------------------------------------------------------------------
def local_client(ws: LocalWorkspace) -> WorkspaceClient:
    return WorkspaceClient(config=Config(host=ws.url, token=ws.token, retry_timeout_seconds=20))


def write_requests(ws: LocalWorkspace, since: int = 0) -> list[str]:
    new = ws.requests()[since:]
    return [f"{r['method']} {r['path']}" for r in new if r["method"] != "GET"]


def test_write_bundle_validates_before_writing(tmp_path):
    rows = parse_rows(f"{HEADER},schedule\na,g,0 3 * * *\n")
    with pytest.raises(
        LakeflowError, match="example_pipelines.yml: resources.pipelines.example_g.channel"
    ):
        bundle.write_bundle("example", rows, tmp_path / "out", pipeline={"channel": 5})
    assert files_under(tmp_path / "out") == {}
    written = bundle.write_bundle("example", rows, tmp_path / "out", catalog="lake", schema="raw")
    assert [p.name for p in written] == ["example_pipelines.yml", "databricks.yml"]


def test_the_databricks_bundles_classes_check_what_the_schema_leaves_open():
    pytest.importorskip("databricks.bundles")
    resources = {"resources": {"jobs": {"j": {"schedule": {"quartz_cron_expression": "0 0 * * * ?", "pause_status": "SOMETIMES"}}}}}  # fmt: skip
    with pytest.raises(LakeflowError, match="x.yml: resources.jobs.j: 'SOMETIMES'"):
        bundle.validate_with_models(resources, "x.yml")


def test_bad_input_writes_nothing_to_build_or_the_workspace(tmp_path):
    root = connector_root(tmp_path)
    generate.generate_from_preset("example", root)
    before = files_under(root / "build")
    csv_file = root / "sources/example/deployment/tables.csv"
    good = csv_file.read_text()
    # A new group and a change to an existing one, then a bad row last: nothing may be written.
    csv_file.write_text(
        good.replace("0 3 * * *", "0 5 * * *") + "\nsignups,growth,,0 1 * * *,,,,,\nlate,activity,,61 * * * *,,,,,\n"
    )  # fmt: skip
    with LocalWorkspace(tmp_path / "ws") as ws:
        with pytest.raises(LakeflowError, match="tables.csv: row 8, column schedule: minute"):
            deployer.deploy_from_preset("example", client=local_client(ws), root=root)
        assert write_requests(ws) == []
    assert files_under(root / "build") == before
    assert not (root / ".lakeflow" / "state").exists()


# -- the preset is the truth ---------------------------------------------------------------------
PRESET_FIELDS = {
    "pipeline": {
        "catalog": "lake",
        "schema": "crm_raw",
        "serverless": False,
        "development": False,
        "continuous": False,
        "channel": "PREVIEW",
        "configuration": {"owner": "data-team"},
    },
    "jobs": {"create": True, "pause": True, "timezone_id": "Europe/Paris"},
    "storage": {"uc_volume_name": "conn_files"},
}


@pytest.mark.parametrize(
    ("pipeline", "jobs", "expect_jobs"),
    [
        ({}, {}, True),
        ({"continuous": True}, {}, False),  # a continuous pipeline needs no schedule
        ({}, {"create": False}, False),
    ],
    ids=["scheduled", "continuous", "no-jobs"],
)
def test_every_preset_field_reaches_the_yaml_and_the_workspace(
    tmp_path, pipeline, jobs, expect_jobs
):
    settings = {**PRESET_FIELDS["pipeline"], **pipeline}
    job_settings = {**PRESET_FIELDS["jobs"], **jobs}
    root = connector_root(
        tmp_path, pipeline=settings, jobs=job_settings, storage=PRESET_FIELDS["storage"]
    )
    with LocalWorkspace(tmp_path / "ws") as ws:
        client = local_client(ws)
        deployer.deploy_from_preset("example", client=client, root=root)
        out = root / "build/notebooks/example"
        resources = yaml.safe_load((out / "resources/example_pipelines.yml").read_text())
        variables = yaml.safe_load((out / "databricks.yml").read_text())["variables"]
        assert variables["destination_catalog"]["default"] == "lake"
        assert variables["destination_schema"]["default"] == "crm_raw"
        managed = ("serverless", "development", "continuous", "channel")
        live = {
            p.name: client.api_client.do("GET", f"/api/2.0/pipelines/{p.pipeline_id}")["spec"]
            for p in client.pipelines.list_pipelines()
        }
        assert sorted(live) == ["example_activity", "example_crm", "example_reference"]
        for key, spec in resources["resources"]["pipelines"].items():
            assert {k: spec[k] for k in managed} == {k: settings[k] for k in managed}
            assert spec["configuration"]["owner"] == "data-team"
            assert {k: live[key][k] for k in managed} == {k: settings[k] for k in managed}
            assert (live[key]["catalog"], live[key]["schema"]) == ("lake", "crm_raw")
            assert live[key]["configuration"]["owner"] == "data-team"
            notebook = live[key]["libraries"][0]["notebook"]["path"]
            exported = client.workspace.export(notebook).content
            source = base64.b64decode(exported).decode()
            assert "CONNECTOR_DIR = '/Volumes/lake/crm_raw/conn_files/example'" in source
        yaml_jobs = resources["resources"].get("jobs", {})
        live_jobs = client.api_client.do("GET", "/api/2.2/jobs/list").get("jobs", [])
        if expect_jobs:
            assert sorted(yaml_jobs) == ["example_crm_schedule", "example_reference_schedule"]
            assert len(live_jobs) == 2
            for job in [*yaml_jobs.values(), *(j["settings"] for j in live_jobs)]:
                assert job["schedule"]["pause_status"] == "PAUSED"
                assert job["schedule"]["timezone_id"] == "Europe/Paris"
        else:
            assert yaml_jobs == {} and live_jobs == []
        files = client.files.list_directory_contents("/Volumes/lake/crm_raw/conn_files/example")
        assert "_generated_example_python_source.py" in {f.name for f in files}
        assert client.volumes.read("lake.crm_raw.conn_files").name == "conn_files"


def test_a_csv_rows_table_configuration_is_what_the_pipeline_runtime_sends():
    """One builder for both: the notebook's spec, parsed at run time, gives back each row's."""
    from libs.spec_parser import parse_pipeline_spec
    from pipeline.ingestion_pipeline import table_configuration
    from tools.notebook_based_deployment.notebooks import pipeline_spec

    rows = read_csv(EXAMPLE_PRESET.parent / "tables.csv")
    parsed = parse_pipeline_spec(pipeline_spec("example", rows)).objects
    assert [table_configuration(t) for t in parsed] == [r.table_configuration() for r in rows]
    assert rows[2].table_configuration() == {
        "scd_type": "SCD_TYPE_1", "primary_keys": '["id"]', "sequence_by": "updated_at",
    }  # fmt: skip


# -- drift and removal ---------------------------------------------------------------------------
def deploy_in_process(root: Path, ws: LocalWorkspace, capsys, plan: bool = False) -> str:
    run = deployer.plan_from_preset if plan else deployer.deploy_from_preset
    capsys.readouterr()
    run("example", client=local_client(ws), root=root)
    return capsys.readouterr().out


def live_jobs(client) -> dict[str, dict]:
    jobs = client.api_client.do("GET", "/api/2.2/jobs/list").get("jobs", [])
    return {j["settings"]["name"]: j for j in jobs}


def live_pipelines(client) -> dict[str, dict]:
    return {
        p.name: client.api_client.do("GET", f"/api/2.0/pipelines/{p.pipeline_id}")
        for p in client.pipelines.list_pipelines()
    }


def test_out_of_band_changes_are_planned_and_restored(tmp_path, capsys):
    root = connector_root(tmp_path)
    with LocalWorkspace(tmp_path / "ws") as ws:
        client = local_client(ws)
        deploy_in_process(root, ws, capsys)
        job = live_jobs(client)["example_crm schedule"]
        wanted_job = job["settings"]
        changed = {
            **wanted_job,
            "schedule": {**wanted_job["schedule"], "quartz_cron_expression": "0 0 0 * * ?"},
        }
        client.api_client.do("POST", "/api/2.2/jobs/reset", body={"job_id": job["job_id"], "new_settings": changed})  # fmt: skip
        pipeline = live_pipelines(client)["example_crm"]
        wanted_spec = pipeline["spec"]
        body = {**wanted_spec, "development": False, "pipeline_id": pipeline["pipeline_id"]}
        client.api_client.do("PUT", f"/api/2.0/pipelines/{pipeline['pipeline_id']}", body=body)
        client.api_client.do("POST", "/api/2.2/jobs/delete", body={"job_id": live_jobs(client)["example_reference schedule"]["job_id"]})  # fmt: skip
        notebook = wanted_spec["libraries"][0]["notebook"]["path"]
        edited = base64.b64encode(b"# Databricks notebook source\nprint('edited')\n").decode()
        client.workspace.import_(notebook, content=edited, format=ImportFormat.SOURCE, language=Language.PYTHON, overwrite=True)  # fmt: skip
        client.files.delete(
            "/Volumes/main/example_notebooks/connectors/example/libs/spec_parser.py"
        )

        planned = deploy_in_process(root, ws, capsys, plan=True)
        assert "update    job example_crm_schedule (changed out of band)" in planned
        assert "create    job example_reference_schedule (restore)" in planned
        assert "update    pipeline example_crm (changed out of band)" in planned
        assert "update    notebook crm (edited remotely)" in planned
        assert "update    volume file libs/spec_parser.py (restore)" in planned
        assert "Plan: 1 to add, 4 to change, 0 to delete," in planned

        deployed = deploy_in_process(root, ws, capsys)
        assert "notebook deploy example: 5 changes (1 created, 4 updated, 0 deleted," in deployed
        assert live_jobs(client)["example_crm schedule"]["settings"] == wanted_job
        assert live_pipelines(client)["example_crm"]["spec"] == wanted_spec
        restored = base64.b64decode(client.workspace.export(notebook).content).decode()
        assert "print('edited')" not in restored and "PIPELINE_SPEC" in restored
        assert set(live_jobs(client)) == {"example_crm schedule", "example_reference schedule"}
        again = deploy_in_process(root, ws, capsys)
        assert "notebook deploy example: 0 changes" in again, again


def remove_group(root: Path, group: str) -> None:
    csv_file = root / "sources/example/deployment/tables.csv"
    lines = csv_file.read_text().splitlines(keepends=True)
    csv_file.write_text("".join(line for line in lines if f",{group}," not in line))


def test_removing_a_group_removes_its_pipeline_job_and_notebook(tmp_path, capsys):
    root = connector_root(tmp_path)
    with LocalWorkspace(tmp_path / "ws") as ws:
        client = local_client(ws)
        deploy_in_process(root, ws, capsys)
        notebook_root = live_pipelines(client)["example_crm"]["spec"]["libraries"][0]["notebook"]["path"].rsplit("/", 1)[0]  # fmt: skip
        remove_group(root, "crm")
        planned = deploy_in_process(root, ws, capsys, plan=True)
        for line in (
            "delete    notebook crm",
            "delete    pipeline example_crm (group removed)",
            "delete    job example_crm_schedule (schedule removed)",
        ):
            assert line in planned
        assert "Plan: 0 to add, 0 to change, 3 to delete," in planned
        deployed = deploy_in_process(root, ws, capsys)
        assert "notebook deploy example: 3 changes (0 created, 0 updated, 3 deleted," in deployed
        assert set(live_pipelines(client)) == {"example_activity", "example_reference"}
        assert set(live_jobs(client)) == {"example_reference schedule"}
        notebooks = {o.path.rsplit("/", 1)[1] for o in client.workspace.list(notebook_root)}
        assert notebooks == {"activity", "reference"}
        assert not (root / "build/notebooks/example/notebooks/crm.py").exists()
        assert "notebook deploy example: 0 changes" in deploy_in_process(root, ws, capsys)


def test_with_on_removal_pause_a_removed_schedule_pauses_its_job(tmp_path, capsys):
    root = connector_root(tmp_path, jobs={"on_removal": "pause"})
    with LocalWorkspace(tmp_path / "ws") as ws:
        client = local_client(ws)
        deploy_in_process(root, ws, capsys)
        csv_file = root / "sources/example/deployment/tables.csv"
        csv_file.write_text(csv_file.read_text().replace("0 3 * * *", ""))  # reference: no schedule
        remove_group(root, "crm")
        deployed = deploy_in_process(root, ws, capsys)
        assert "update    job example_reference_schedule (schedule removed: paused" in deployed
        assert "delete    pipeline example_crm (group removed)" in deployed
        jobs = live_jobs(client)
        assert {name: j["settings"]["schedule"]["pause_status"] for name, j in jobs.items()} == {
            "example_crm schedule": "PAUSED",
            "example_reference schedule": "PAUSED",
        }
        assert set(live_pipelines(client)) == {"example_activity", "example_reference"}
        assert "notebook deploy example: 0 changes" in deploy_in_process(root, ws, capsys)
        # The schedule comes back: the same job is unpaused, not a second one made.
        csv_file.write_text(csv_file.read_text().replace("products,reference,,,", "products,reference,,0 3 * * *,"))  # fmt: skip
        assert "update    job example_reference_schedule (changed)" in deploy_in_process(
            root, ws, capsys
        )
        jobs = live_jobs(client)
        assert (
            jobs["example_reference schedule"]["settings"]["schedule"]["pause_status"] == "UNPAUSED"
        )
        assert len(jobs) == 2


def test_server_filled_job_defaults_are_not_drift_but_a_changed_value_is():
    desired = {
        "name": "example_crm schedule",
        "schedule": {"quartz_cron_expression": "0 */15 * * * ?", "pause_status": "PAUSED"},
        "tasks": [{"task_key": "refresh_pipeline", "pipeline_task": {"pipeline_id": "p1"}}],
    }
    as_returned = {
        **desired,
        "format": "MULTI_TASK",
        "timeout_seconds": 0,
        "tasks": [{**desired["tasks"][0], "run_if": "ALL_SUCCESS", "timeout_seconds": 0}],
    }
    assert deployer._job_change({"job_id": 1, "settings": as_returned}, desired)[0] == "unchanged"
    drifted = {**as_returned, "tasks": [{**as_returned["tasks"][0], "pipeline_task": {"pipeline_id": "p2"}}]}  # fmt: skip
    action, body = deployer._job_change({"job_id": 1, "settings": drifted}, desired)
    assert (
        action == "update" and body["tasks"] == desired["tasks"] and body["format"] == "MULTI_TASK"
    )
