"""Pipeline spec validation (libs/spec_parser.py) and the source loader."""

from __future__ import annotations

import sys

import pytest

from libs.source_loader import SourceNotFoundError, get_register_function
from libs.spec_parser import SpecError, allowed_check, parse_pipeline_spec


def spec(**table_configuration):
    return {
        "connection_name": "c",
        "objects": [
            {"table": {"source_table": "a"}},
            {"table": {"source_table": "b", "table_configuration": table_configuration}},
        ],
    }


def test_a_valid_spec_is_parsed():
    parsed = parse_pipeline_spec(
        spec(scd_type="SCD_TYPE_2", primary_keys='["id", "ts"]', sequence_by="ts", since="2024")
    )
    table = parsed.objects[1]
    assert parsed.connection_name == "c"
    assert (table.scd_type, table.primary_keys, table.sequence_by) == (
        "SCD_TYPE_2",
        ["id", "ts"],
        "ts",
    )
    assert table.table_options == {"since": "2024"} and table.destination_table == "b"


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"scd_type": "SCD_TYPE_3"}, "objects[1].table.table_configuration.scd_type"),
        ({"primary_keys": '"id"'}, "objects[1].table.table_configuration.primary_keys"),
        ({"primary_keys": "[1]"}, "objects[1].table.table_configuration.primary_keys"),
        ({"primary_keys": "not json"}, "objects[1].table.table_configuration.primary_keys"),
        ({"sequence_by": ""}, "objects[1].table.table_configuration.sequence_by"),
        ({"page_size": 5}, "objects[1].table.table_configuration.page_size"),
    ],
)
def test_errors_name_the_object_index_and_field(config, field):
    with pytest.raises(SpecError) as error:
        parse_pipeline_spec(spec(**config))
    assert error.value.field_path == field and str(error.value).startswith(field)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"objects": [{"table": {"source_table": "a"}}]}, "connection_name"),
        ({"connection_name": "c", "objects": []}, "objects"),
        ({"connection_name": "c", "objects": [{"table": {}}]}, "objects[0].table.source_table"),
        ({"connection_name": "c", "objects": [{"tabel": {}}]}, "objects[0].table"),
        (
            {"connection_name": "c", "objects": [{"table": {"source_table": "a", "x": 1}}]},
            "objects[0].table.x",
        ),
        (
            {
                "connection_name": "c",
                "objects": [
                    {"table": {"source_table": "a"}},
                    {"table": {"source_table": "b", "destination_table": "a"}},
                ],
            },
            "objects[1].table.destination_table",
        ),
    ],
)
def test_structural_errors(bad, field):
    with pytest.raises(SpecError) as error:
        parse_pipeline_spec(bad)
    assert error.value.field_path == field


def test_table_options_must_be_allowlisted():
    parsed = parse_pipeline_spec(spec(since="2024", scd_type="SCD_TYPE_1"))
    allowed_check(parsed, {"since"})
    with pytest.raises(SpecError, match=r"objects\[1\]\.table\.table_configuration\.since"):
        allowed_check(parsed, {"until"})


def test_source_loader_finds_the_generated_register_function():
    register = get_register_function("example")
    assert callable(register) and register.__name__ == "register_lakeflow_source"


def test_source_loader_explains_what_is_missing(tmp_path, monkeypatch):
    with pytest.raises(SourceNotFoundError, match="not found; available: .*example"):
        get_register_function("no_such_source")
    (tmp_path / "sources" / "fresh").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    with pytest.raises(SourceNotFoundError, match="doit merge:fresh"):
        get_register_function("fresh")
