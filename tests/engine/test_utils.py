"""Record → Row conversion (libs/utils.py)."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

import pytest
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampNTZType,
    TimestampType,
)

from libs.utils import EPOCH_MILLIS_THRESHOLD, parse_value, record_to_row, utc_from_iso

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("value", "data_type", "expected"),
    [
        ("42", IntegerType(), 42),
        (42.0, LongType(), 42),
        ("1.5", DoubleType(), 1.5),
        (True, BooleanType(), True),
        ("false", BooleanType(), False),
        (1, BooleanType(), True),
        (12, StringType(), "12"),
        ({"b": 1, "a": [2]}, StringType(), '{"a": [2], "b": 1}'),
        ("2024-02-03", DateType(), dt.date(2024, 2, 3)),
        ("2024-02-03T04:05:06Z", DateType(), dt.date(2024, 2, 3)),
        ("2024-02-03T04:05:06Z", TimestampType(), dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)),
        (
            "2024-02-03T06:05:06+02:00",
            TimestampType(),
            dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC),
        ),
        (1700000000, TimestampType(), dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1700000000000", TimestampType(), dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("2024-02-03T04:05:06Z", TimestampNTZType(), dt.datetime(2024, 2, 3, 4, 5, 6)),
        ("12.345", DecimalType(10, 2), Decimal("12.34")),
        (7, DecimalType(5, 1), Decimal("7.0")),
        (base64.b64encode(b"\x00hi").decode(), BinaryType(), bytearray(b"\x00hi")),
        (None, IntegerType(), None),
    ],
)
def test_scalar_conversions(value, data_type, expected):
    result = parse_value(value, data_type, "f")
    assert result == expected and type(result) is type(expected)


SCHEMA = StructType(
    [
        StructField("id", LongType(), False),
        StructField(
            "owner",
            StructType(
                [
                    StructField("login", StringType()),
                    StructField(
                        "stats",
                        ArrayType(StructType([StructField("count", IntegerType())])),
                    ),
                ]
            ),
        ),
        StructField("labels", MapType(StringType(), IntegerType())),
        StructField("missing", StringType()),
    ]
)


def test_nested_record_becomes_a_row_in_schema_order():
    row = record_to_row(
        {"labels": {"a": "1"}, "owner": {"stats": [{"count": "3"}], "login": "x"}, "id": "9"},
        SCHEMA,
    )
    assert row.id == 9 and row.owner.login == "x" and row.owner.stats[0]["count"] == 3
    assert row.labels == {"a": 1} and row.missing is None
    assert list(row.asDict()) == ["id", "owner", "labels", "missing"]


def test_an_unconvertible_value_names_its_field_path():
    record = {"id": 1, "owner": {"stats": [{"count": 1}, {"count": 2}, {"count": "abc"}]}}
    with pytest.raises(ValueError, match=r"owner\.stats\[2\]\.count"):
        record_to_row(record, SCHEMA)


def test_a_null_in_a_non_nullable_field_is_an_error():
    with pytest.raises(ValueError, match="'id' is not nullable"):
        record_to_row({"owner": None}, SCHEMA)


@pytest.mark.parametrize(
    ("value", "data_type"),
    [
        ("abc", IntegerType()),
        ("1.5", IntegerType()),
        ("maybe", BooleanType()),
        ("not a date", TimestampType()),
        ("!!", BinaryType()),
        ("123456", DecimalType(4, 2)),
        ("x", ArrayType(StringType())),
    ],
)
def test_bad_values_raise_value_error(value, data_type):
    with pytest.raises(ValueError, match="at field 'f'"):
        parse_value(value, data_type, "f")


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (1_700_000_000, dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),  # seconds
        (1_700_000_000_000, dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),  # milliseconds
        (EPOCH_MILLIS_THRESHOLD - 1, dt.datetime(5138, 11, 16, 9, 46, 39, tzinfo=UTC)),  # seconds
        (EPOCH_MILLIS_THRESHOLD, dt.datetime(1973, 3, 3, 9, 46, 40, tzinfo=UTC)),  # milliseconds
        (-1_000, dt.datetime(1969, 12, 31, 23, 43, 20, tzinfo=UTC)),  # seconds before 1970
    ],
)
def test_epoch_numbers_are_seconds_below_the_threshold_and_milliseconds_from_it(number, expected):
    assert parse_value(number, TimestampType()) == expected
    assert parse_value(str(number), TimestampType()) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-03T04:05:06Z", dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)),
        ("2024-02-03T06:05:06+02:00", dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)),
        ("2024-02-03T04:05:06", dt.datetime(2024, 2, 3, 4, 5, 6, tzinfo=UTC)),  # naive is UTC
        (" 2024-02-03 ", dt.datetime(2024, 2, 3, tzinfo=UTC)),
    ],
)
def test_utc_from_iso(text, expected):
    parsed = utc_from_iso(text)
    assert parsed == expected and parsed.utcoffset() == dt.timedelta(0)


def test_utc_from_iso_refuses_what_is_not_iso():
    with pytest.raises(ValueError):
        utc_from_iso("last week")
