"""Schedules: a 5-field cron (what people write in the CSV) validated, then converted to the
Quartz expression Databricks jobs take.

croniter decides what a field means (ranges, lists, steps, JAN-DEC, SUN-SAT, Sunday as 0 or 7);
on top of it we refuse what a 5-field cron does not have (`?`, `L`, `W`, `#`, `H`) and a day of
month together with a day of week (cron runs on either, Quartz cannot say that). Quartz counts
days of week 1-7 from Sunday, cron 0-6 (or 7) from Sunday, so day-of-week values are shifted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from croniter import croniter

FIELDS = ("minute", "hour", "day of month", "month", "day of week")
RANGES = ("0-59", "0-23", "1-31", "1-12 or JAN-DEC", "0-7 or SUN-SAT")
NUMERIC = re.compile(r"^[0-9*,/-]+$")
NAMED = re.compile(r"^[0-9A-Za-z*,/-]+$")  # month and day-of-week names
EVERY_N = re.compile(r"^\*/[0-9]+$")


@dataclass
class CronError(Exception):
    """A cron that is not valid; `field` is one of FIELDS, or "" for the whole expression."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def _expanded(position: int, text: str) -> list:
    """croniter's values for one field (['*'] for every value), or a CronError."""
    fields = ["*"] * 5
    fields[position] = text
    expression = " ".join(fields)
    if not (NAMED if position >= 3 else NUMERIC).match(text) or not croniter.is_valid(expression):
        raise CronError(FIELDS[position], f"{text!r} is not valid (expected {RANGES[position]})")
    return croniter.expand(expression)[0][position]


def validate(cron: str) -> list[list]:
    """Every field's values; CronError names the first bad field."""
    fields = cron.split()
    if len(fields) != 5:
        raise CronError(
            "", f"expected 5 fields (minute hour day-of-month month day-of-week), got {cron!r}"
        )
    for position, text in enumerate(fields):
        if "?" in text:
            raise CronError(FIELDS[position], "'?' is Quartz syntax; a 5-field cron uses '*'")
    values = [_expanded(position, text) for position, text in enumerate(fields)]
    if values[2] != ["*"] and values[4] != ["*"]:
        raise CronError(
            "day of week",
            "both day of month and day of week are set; cron runs on either, which a Databricks "
            "(Quartz) schedule cannot express: set one of them to '*'",
        )
    return values


def _ranges(numbers: list[int]) -> str:
    """Sorted numbers as Quartz text with runs as ranges: [1, 2, 3, 5] → '1-3,5'."""
    runs: list[list[int]] = []
    for number in sorted(set(numbers)):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return ",".join(f"{low}-{high}" if high > low else str(low) for low, high in runs)


def quartz_cron(cron: str) -> str:
    """`*/15 * * * *` → `0 */15 * * * ?`: seconds first, `?` in whichever day field is unset."""
    values = validate(cron)
    texts = cron.split()
    quartz = []
    for position in range(4):
        text = texts[position]
        # `*` and `*/n` mean the same in both; anything else is written out from croniter's
        # values, so wrapping ranges (22-2) and names come out as plain Quartz numbers.
        quartz.append(text if text == "*" or EVERY_N.match(text) else _ranges(values[position]))
    if values[4] == ["*"]:
        day_of_week = "?"
    else:
        day_of_week = _ranges([day % 7 + 1 for day in values[4]])  # Sunday 0 (or 7) → 1
        quartz[2] = "?"
    return f"0 {' '.join(quartz)} {day_of_week}"
