"""Processed lines (serialised once), the exact plan, and the router that copies line bytes by their keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datatrove.data import Document

from trove_blocks.synsql.sample import build_sample_dir, sample_records
from trove_blocks.synsql.schema import iter_table_entries, render_schema, schema_line
from trove_blocks.writers.selection import ProcessedLineWriter, SelectionPlanner, SelectionRouter

REAL_DIR = Path("tests/data/text2sql")


@pytest.fixture()
def work(tmp_path) -> Path:
    build_sample_dir(REAL_DIR, tmp_path / "synsql")
    with open(tmp_path / "schemas.jsonl", "wb") as out:
        for entry in iter_table_entries(tmp_path / "synsql" / "tables.json"):
            out.write(schema_line(entry["db_id"], render_schema(entry, "compact")))
    records = sample_records(REAL_DIR)
    for rank, part in enumerate((records[:30], records[30:])):
        docs = [
            Document(
                text=r["question"], id=f"data.json/{rank}-{i}", metadata={k: v for k, v in r.items() if k != "question"}
            )
            for i, r in enumerate(part)
        ]
        writer = ProcessedLineWriter(str(tmp_path / "work"), str(tmp_path / "schemas.jsonl"), seed=3)
        assert len(list(writer.run(iter(docs), rank=rank, world_size=2))) == len(part)
    return tmp_path


def test_router_copies_every_line_once_to_its_split(work):
    lines = {line for path in (work / "work" / "lines").glob("*.jsonl") for line in path.read_text().splitlines()}
    assert len(lines) == 63 and all(json.loads(line)["schema"] for line in lines)
    list(SelectionPlanner(str(work / "work"), subset_size=50, val_ratio=0.1).run())
    for rank in range(3):  # another task count than the writer's: files are dealt round robin
        list(SelectionRouter(str(work / "work"), str(work / "out")).run(rank=rank, world_size=3))
    split = {
        name: [line for p in (work / "out" / name).glob("*.jsonl") for line in p.read_text().splitlines()]
        for name in ("train", "val")
    }
    assert len(split["train"]) == 45 and len(split["val"]) == 5
    assert set(split["train"]) | set(split["val"]) <= lines  # byte copies of the processed lines
    dropped = [
        json.loads(line)
        for p in (work / "out" / "excluded" / "not_in_subset").glob("*.jsonl")
        for line in p.read_text().splitlines()
    ]
    assert len(dropped) == 13 and {d["filter_reason"] for d in dropped} == {"not_in_subset"}
    tallies = [json.loads(p.read_text()) for p in (work / "work" / "counts" / "written").glob("*.json")]
    assert sum(t["documents"] for t in tallies) == 50


def test_router_refuses_misaligned_work_files(work):
    list(SelectionPlanner(str(work / "work"), subset_size=10, val_ratio=0.1).run())
    line_file = work / "work" / "lines" / "00001.jsonl"
    line_file.write_text("\n".join(line_file.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(ValueError, match="00001.jsonl has fewer lines"):
        list(SelectionRouter(str(work / "work"), str(work / "out")).run(rank=1, world_size=2))
    assert not list((work / "out").rglob("*.jsonl"))  # nothing committed by the failed task
