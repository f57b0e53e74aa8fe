"""Test counts read from pytest's JUnit XML reports, one report per nox test session.

nox only sees exit codes; the reports let a session refuse a run that collected nothing and let
CI print one closing line for the whole run.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path

from tools.lakeflow import project


@dataclass
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def collected(self) -> int:
        return self.passed + self.failed + self.skipped

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.passed + other.passed, self.failed + other.failed, self.skipped + other.skipped
        )


def results_dir(root: Path = project.REPO_ROOT) -> Path:
    return root / "build" / "test-results"


def report_path(target: str, root: Path = project.REPO_ROOT) -> Path:
    return results_dir(root) / f"{target}.xml"


def read_counts(report: Path) -> Counts:
    if not report.is_file():
        return Counts()
    counts = Counts()
    for suite in ElementTree.parse(report).getroot().iter("testsuite"):
        tests = int(suite.get("tests", 0))
        failed = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        counts = counts + Counts(tests - failed - skipped, failed, skipped)
    return counts


def main() -> int:
    """Print `N passed, N failed, N skipped` over every report: CI's closing line."""
    total = Counts()
    for report in sorted(results_dir().glob("*.xml")):
        total = total + read_counts(report)
    print(f"{total.passed} passed, {total.failed} failed, {total.skipped} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
