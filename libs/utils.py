"""Turn a connector's JSON-like record into a Spark Row for a StructType.

Connectors return what their API returns; this module does every conversion once, for all of them.
A value that cannot be converted raises ValueError naming the field path (`owner.tags[2].id`).

Timestamps (the one rule; sources/interface/README.md documents it for connector authors):
- an ISO 8601 string is parsed with its offset ('Z' allowed); without one it is UTC;
- a number, or a numeric string, is epoch time: milliseconds when its magnitude is at least
  EPOCH_MILLIS_THRESHOLD (1e11), otherwise seconds. 1e11 seconds is in the year 5138 and 1e11
  milliseconds is March 1973, so every plausible instant is read right in either unit.
Upstream reads every number as epoch seconds; APIs that send milliseconds (most JavaScript-era
ones, and our example) would land tens of thousands of years in the future there.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import json

from pyspark.sql import Row
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    BooleanType,
    ByteType,
    DataType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    MapType,
    ShortType,
    StringType,
    StructType,
    TimestampNTZType,
    TimestampType,
)

EPOCH_MILLIS_THRESHOLD = 1e11
_TRUE_STRINGS = {"true", "t", "yes", "y", "1"}
_FALSE_STRINGS = {"false", "f", "no", "n", "0"}


def _conversion_error(value, data_type: DataType, path: str, reason: str = "") -> ValueError:
    detail = f": {reason}" if reason else ""
    return ValueError(
        f"cannot convert {value!r} to {data_type.simpleString()} at field '{path or '<root>'}'"
        f"{detail}"
    )


def _to_integer(value, data_type: DataType, path: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (str, decimal.Decimal)):
        try:
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            raise _conversion_error(value, data_type, path) from None
        if number == number.to_integral_value():
            return int(number)
    raise _conversion_error(value, data_type, path)


def _to_float(value, data_type: DataType, path: str) -> float:
    if isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _conversion_error(value, data_type, path)


def _to_bool(value, data_type: DataType, path: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE_STRINGS | _FALSE_STRINGS:
        return value.strip().lower() in _TRUE_STRINGS
    raise _conversion_error(value, data_type, path)


def epoch_to_datetime(number: float) -> _dt.datetime:
    """Epoch milliseconds at or above EPOCH_MILLIS_THRESHOLD in magnitude, seconds below it."""
    seconds = number / 1000.0 if abs(number) >= EPOCH_MILLIS_THRESHOLD else number
    return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)


def utc_from_iso(text: str) -> _dt.datetime:
    """An ISO 8601 date or timestamp ('Z' allowed) as an aware UTC datetime; naive means UTC.
    Raises ValueError for anything else."""
    parsed = _dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.astimezone(_dt.timezone.utc)


def _to_timestamp(value, data_type: DataType, path: str) -> _dt.datetime:
    if isinstance(value, _dt.datetime):
        result = value
    elif isinstance(value, _dt.date):
        result = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        result = epoch_to_datetime(value)
    elif isinstance(value, str):
        text = value.strip()
        try:
            result = epoch_to_datetime(float(text))
        except ValueError:
            try:
                result = utc_from_iso(text)
            except ValueError:
                raise _conversion_error(value, data_type, path, "not ISO 8601 or epoch") from None
    else:
        raise _conversion_error(value, data_type, path)
    if isinstance(data_type, TimestampNTZType):
        if result.tzinfo is not None:
            result = result.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return result
    if result.tzinfo is None:
        result = result.replace(tzinfo=_dt.timezone.utc)
    return result.astimezone(_dt.timezone.utc)


def _to_date(value, data_type: DataType, path: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return _dt.date.fromisoformat(text[:10])
        except ValueError:
            pass
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return _to_timestamp(value, TimestampType(), path).date()
    raise _conversion_error(value, data_type, path)


def _to_decimal(value, data_type: DecimalType, path: str) -> decimal.Decimal:
    if isinstance(value, bool):
        raise _conversion_error(value, data_type, path)
    try:
        number = decimal.Decimal(str(value).strip()) if not isinstance(value, float) else None
        if number is None:
            number = decimal.Decimal(repr(value))
    except decimal.InvalidOperation:
        raise _conversion_error(value, data_type, path) from None
    quantum = decimal.Decimal(1).scaleb(-data_type.scale)
    number = number.quantize(quantum, rounding=decimal.ROUND_HALF_EVEN)
    if len(number.as_tuple().digits) > data_type.precision:
        raise _conversion_error(value, data_type, path, "too many digits")
    return number


def _to_binary(value, data_type: DataType, path: str) -> bytearray:
    if isinstance(value, (bytes, bytearray)):
        return bytearray(value)
    if isinstance(value, str):
        try:
            return bytearray(base64.b64decode(value, validate=True))
        except ValueError:
            raise _conversion_error(value, data_type, path, "not base64") from None
    raise _conversion_error(value, data_type, path)


def _to_string(value, data_type: DataType, path: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return str(value)


def parse_value(value, data_type: DataType, path: str = ""):
    """Convert one JSON-like value to the Python value Spark expects for `data_type`."""
    if value is None:
        return None
    if isinstance(data_type, StructType):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise _conversion_error(value, data_type, path) from None
        if not isinstance(value, dict):
            raise _conversion_error(value, data_type, path, "expected an object")
        return record_to_row(value, data_type, path)
    if isinstance(data_type, ArrayType):
        if not isinstance(value, (list, tuple)):
            raise _conversion_error(value, data_type, path, "expected an array")
        items = []
        for index, item in enumerate(value):
            item_path = f"{path}[{index}]"
            if item is None and not data_type.containsNull:
                raise _conversion_error(item, data_type.elementType, item_path, "null in array")
            items.append(parse_value(item, data_type.elementType, item_path))
        return items
    if isinstance(data_type, MapType):
        if not isinstance(value, dict):
            raise _conversion_error(value, data_type, path, "expected an object")
        return {
            parse_value(k, data_type.keyType, f"{path}.<key>"): parse_value(
                v, data_type.valueType, f"{path}[{k!r}]"
            )
            for k, v in value.items()
        }
    if isinstance(data_type, (IntegerType, LongType, ShortType, ByteType)):
        return _to_integer(value, data_type, path)
    if isinstance(data_type, (FloatType, DoubleType)):
        return _to_float(value, data_type, path)
    if isinstance(data_type, BooleanType):
        return _to_bool(value, data_type, path)
    if isinstance(data_type, (TimestampType, TimestampNTZType)):
        return _to_timestamp(value, data_type, path)
    if isinstance(data_type, DateType):
        return _to_date(value, data_type, path)
    if isinstance(data_type, DecimalType):
        return _to_decimal(value, data_type, path)
    if isinstance(data_type, BinaryType):
        return _to_binary(value, data_type, path)
    if isinstance(data_type, StringType):
        return _to_string(value, data_type, path)
    raise _conversion_error(value, data_type, path, "unsupported type")


def record_to_row(record: dict, schema: StructType, path: str = "") -> Row:
    """A Row with the schema's fields in order; fields missing from the record are null."""
    values = []
    for struct_field in schema.fields:
        field_path = f"{path}.{struct_field.name}" if path else struct_field.name
        value = parse_value(record.get(struct_field.name), struct_field.dataType, field_path)
        if value is None and not struct_field.nullable:
            raise ValueError(f"field '{field_path}' is not nullable but has no value")
        values.append(value)
    return Row(**dict(zip(schema.fieldNames(), values, strict=True)))
