"""Notebook-based deployment: CSV/presets → notebooks → bundle YAML → local workspace."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from tests.engine.doit_sandbox import DoitSandbox
from tests.engine.test_ingestion_pipeline import FakeSpark, Recorder
from tools.lakeflow import project
from tools.lakeflow.errors import LakeflowError
from tools.lakeflow.local_workspace import LocalWorkspace
from tools.notebook_based_deployment import bundle, presets
from tools.notebook_based_deployment.generate_dlt_notebooks_generic import main as generate_cli
from tools.notebook_based_deployment.metadata_csv import parse_rows
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
        ("0 8 * jan mon,wed", "0 0 8 ? JAN MON,WED"),
        ("0 0 * * */2", "0 0 0 ? * 1/2"),
    ],
)
def test_cron_converts_to_quartz(cron, quartz):
    assert bundle.quartz_cron(cron) == quartz


def test_cron_restricting_both_days_is_refused():
    with pytest.raises(LakeflowError, match="both day-of-month and day-of-week"):
        bundle.quartz_cron("0 0 1 * 1")


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
        (f"{HEADER}\na,g\na,g\n", "row 3, column destination_table"),
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
    assert "notebook deploy example: 13 changes" in first.stdout
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        before = len(ws.requests())
    second = box.doit("notebook_deploy:example")
    assert "notebook deploy example: 0 changes" in second.stdout
    with LocalWorkspace(box.root / ".lakeflow" / "local") as ws:
        new = ws.requests()[before:]
    assert new and [r for r in new if r["method"] in {"POST", "PUT", "PATCH", "DELETE"}] == []
    # A changed CSV row updates its job in place.
    csv_file = box.root / "sources/example/deployment/tables.csv"
    csv_file.write_text(csv_file.read_text().replace("0 3 * * *", "0 4 * * *"))
    third = box.doit("notebook_deploy:example")
    assert "update    job example_reference_schedule (0 0 4 * * ?)" in third.stdout
    assert (
        "notebook deploy example: 1 changes" in third.stdout
    )  # only the job: schedules are not in notebooks


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
