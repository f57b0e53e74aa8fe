"""connector_spec.yaml and pipeline_spec.yaml: what is read, and one clear error per bad field."""

from __future__ import annotations

import pytest

from tools.lakeflow import specs
from tools.lakeflow.errors import LakeflowError

CONNECTOR = "sources/demo/connector_spec.yaml"
PIPELINE = "sources/demo/pipeline_spec.yaml"


def test_connector_spec_parameters_and_allowlist(repo):
    spec = specs.load_connector_spec("demo", repo.root)
    assert [p.name for p in spec.parameters] == ["api_key", "region", "page"]
    api_key = spec.parameters[0]
    assert api_key.required and api_key.secret and api_key.type == "string"
    assert spec.parameters[1].default == "eu"
    assert spec.allowlist == ["page_size", "filter"]


def test_full_allowlist_adds_the_data_source_options_once(repo):
    repo.edit(CONNECTOR, '"page_size, filter"', '"page_size, tableName"')
    spec = specs.load_connector_spec("demo", repo.root)
    assert spec.full_allowlist == [
        "page_size", "tableName", "tableNameList", "tableConfigs", "isDeleteFlow",
    ]  # fmt: skip


def test_an_empty_allowlist(repo):
    repo.edit(CONNECTOR, 'external_options_allowlist: "page_size, filter"\n', "")
    assert specs.load_connector_spec("demo", repo.root).allowlist == []


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "connection:\n  parameters:",
            "connection:\n  params:",
            "connection.parameters",
            "expected a list",
        ),
        (
            "    - name: page\n",
            "    - name: page\n      colour: red\n",
            "connection.parameters[2].colour",
            "unknown field",
        ),
        (
            "    - name: page\n",
            "    - name: region\n",
            "connection.parameters[2]",
            "duplicate parameter 'region'",
        ),
        ("    - name: page\n", "    - type: string\n", "connection.parameters[2]", "needs a name"),
        (
            "      secret: true",
            "      secret: yes please",
            "connection.parameters[0].secret",
            "true or false",
        ),
        (
            "      required: true",
            "      required: 1",
            "connection.parameters[0].required",
            "true or false",
        ),
        ('"page_size, filter"', "[page_size]", "external_options_allowlist", "comma-separated"),
    ],
)
def test_bad_connector_specs(repo, old, new, field, message):
    repo.edit(CONNECTOR, old, new)
    with pytest.raises(LakeflowError, match=message) as error:
        specs.load_connector_spec("demo", repo.root)
    assert (error.value.file, error.value.field) == (CONNECTOR, field)


@pytest.mark.parametrize(
    ("text", "message"),
    [("a: [1, 2", "not valid YAML"), ("- a\n- b\n", "a mapping at the top level")],
)
def test_unreadable_yaml_names_the_file(repo, text, message):
    repo.write(CONNECTOR, text)
    with pytest.raises(LakeflowError, match=message) as error:
        specs.load_connector_spec("demo", repo.root)
    assert error.value.file == CONNECTOR


def test_a_missing_spec_file(repo):
    (repo.root / PIPELINE).unlink()
    with pytest.raises(LakeflowError, match="file not found") as error:
        specs.load_pipeline_spec("demo", repo.root)
    assert error.value.file == PIPELINE


def test_pipeline_spec_settings(repo):
    spec = specs.load_pipeline_spec("demo", repo.root)
    assert spec.connection_name == "demo_connection"
    assert (spec.catalog, spec.schema) == ("cat", None)
    assert spec.settings == {
        "development": False,
        "channel": "PREVIEW",
        "configuration": {"a": "1"},
    }
    assert [o["table"]["source_table"] for o in spec.objects] == ["users", "events"]


def test_scd_types_by_destination_default_to_type_1(repo):
    spec = specs.load_pipeline_spec("demo", repo.root)
    assert spec.scd_types == {"users": "SCD_TYPE_2", "demo_events": "SCD_TYPE_1"}


def test_defaults_when_optional_sections_are_missing(repo):
    repo.write(PIPELINE, "objects:\n  - table:\n      source_table: users\n")
    spec = specs.load_pipeline_spec("demo", repo.root)
    assert spec.connection_name == "demo_connection"  # <source>_connection
    assert (spec.catalog, spec.schema, spec.settings) == ("main", None, {})


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        ("destination:", "colour: red\ndestination:", "colour", "unknown field"),
        ("  catalog: cat", "  catalog: ''", "destination.catalog", "non-empty string"),
        ("  catalog: cat", "  catalog: cat\n  schema: 5", "destination.schema", "non-empty string"),
        ("destination:\n  catalog: cat", "destination: [cat]", "destination", "a mapping"),
        ("  development: false", "  photon: true", "pipeline.photon", "unknown pipeline setting"),
        ("  development: false", "  development: 'no'", "pipeline.development", "expected bool"),
        ("  channel: PREVIEW", "  channel: 3", "pipeline.channel", "expected str"),
        ('{a: "1"}', "{a: 1}", "pipeline.configuration", "values must be strings"),
        ("pipeline:\n", "pipeline: 5\nunused:\n", "unused", "unknown field"),
        (
            "        scd_type: SCD_TYPE_2",
            "        scd_type: SCD_TYPE_7",
            "objects[0].table.table_configuration.scd_type",
            "expected one of",
        ),
        (
            '        page_size: "10"',
            '        colour: "red"',
            "objects[0].table.table_configuration.colour",
            "external_options_allowlist",
        ),
        (
            '        page_size: "10"',
            "        primary_keys: 'id'",
            "objects[0].table.table_configuration.primary_keys",
            "JSON array of strings",
        ),
        (
            '        page_size: "10"',
            "        primary_keys: '[]'",
            "objects[0].table.table_configuration.primary_keys",
            "JSON array of strings",
        ),
        (
            '        page_size: "10"',
            "        page_size: 10",
            "objects[0].table.table_configuration.page_size",
            "expected a string value",
        ),
        (
            "      source_table: events",
            "      source: events",
            "objects[1].table.source",
            "unknown field",
        ),
        (
            "      destination_table: demo_events",
            "      destination_table: users",
            "objects[1].table.destination_table",
            "already the destination",
        ),
    ],
)
def test_bad_pipeline_specs(repo, old, new, field, message):
    repo.edit(PIPELINE, old, new)
    with pytest.raises(LakeflowError, match=message) as error:
        specs.load_pipeline_spec("demo", repo.root)
    assert (error.value.file, error.value.field) == (PIPELINE, field)


def test_a_pipeline_section_that_is_not_a_mapping(repo):
    repo.edit(
        PIPELINE,
        'pipeline:\n  development: false\n  channel: PREVIEW\n  configuration: {a: "1"}\n',
        "pipeline: [x]\n",
    )
    with pytest.raises(LakeflowError, match="expected a mapping") as error:
        specs.load_pipeline_spec("demo", repo.root)
    assert error.value.field == "pipeline"


def test_every_shipped_source_has_valid_specs():
    from tools.lakeflow import project

    for name in project.source_names():
        specs.load_connector_spec(name)
        assert specs.load_pipeline_spec(name).objects, name
