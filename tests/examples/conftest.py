"""Helpers for the tutorial tests: each example prints one machine-readable ``SUMMARY {json}`` line, and its spec
quotes the line the example printed; the tests compare the two."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def summary_line(text: str, where: str) -> dict:
    """The JSON of the last ``SUMMARY {...}`` line in ``text``."""
    found = re.findall(r"^SUMMARY (\{.*\})$", text, flags=re.M)
    if not found:
        raise AssertionError(f"no 'SUMMARY {{...}}' line in {where}")
    return json.loads(found[-1])


@pytest.fixture
def spec_summary():
    """``spec_summary("02_extraction_filtering")`` -> the SUMMARY the spec quotes."""

    def read(name: str) -> dict:
        path = REPO / "spec" / f"{name}.md"
        return summary_line(path.read_text(), str(path))

    return read


@pytest.fixture
def printed_summary():
    """``printed_summary(completed_process)`` -> the SUMMARY an example printed (fails with its output if none)."""

    def read(done) -> dict:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return summary_line(done.stdout, "the example's output")

    return read
