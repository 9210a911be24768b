"""Tutorial 06: tutorial 01's pipeline on the real local Slurm cluster writes the same documents as locally."""

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def documents(folder: Path) -> set[tuple[str, str]]:
    return {
        (row["id"], row["text"])
        for path in folder.glob("*.jsonl")
        for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
    }


@pytest.mark.slurm
def test_slurm_output_equals_local_output(slurm_cluster, script, tmp_path):
    local = script("examples_local/01_basic_filtering.py", "--output", tmp_path / "local")
    assert local.returncode == 0, local.stderr[-3000:]
    slurm = script("examples_slurm/06_local_to_slurm.py", "--output", tmp_path / "slurm", "--wait", timeout=300)
    assert slurm.returncode == 0, slurm.stdout[-3000:] + slurm.stderr[-3000:]
    assert "slurm run: ok" in slurm.stdout and "4 tasks" in slurm.stdout
    for part in ("kept", "excluded"):
        assert documents(tmp_path / "slurm" / part) == documents(tmp_path / "local" / part)
        assert len(list((tmp_path / "slurm" / part).glob("*.jsonl"))) == 4  # one file per task
    quoted = re.search(
        r"read: (\d+), kept: (\d+), excluded: (\d+)", (REPO / "spec" / "06_local_to_slurm.md").read_text()
    )
    assert quoted and quoted.group(0) in slurm.stdout
