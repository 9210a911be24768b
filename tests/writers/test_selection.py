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
    with pytest.raises(ValueError, match=r"00001.jsonl holds \d+ bytes, its keys .* describe 33 lines .*a partial run"):
        list(SelectionRouter(str(work / "work"), str(work / "out")).run(rank=1, world_size=2))
    assert not list((work / "out").rglob("*.jsonl"))  # nothing committed by the failed task


def expected_outputs(work_dir: Path, seed: int) -> dict[str, bytes]:
    """What the router must write: each work file's lines by ``plan.split_of``, under ``<split>/<work file>``."""
    from trove_blocks.splits import SelectionKeys, SelectionPlan

    plan = SelectionPlan.from_json(json.loads((work_dir / "plan" / "plan.json").read_text()))
    keys = SelectionKeys(seed)
    expected: dict[str, bytes] = {}
    for path in sorted((work_dir / "lines").glob("*.jsonl")):
        for line in path.read_bytes().splitlines(keepends=True):
            record_id = json.loads(line)["id"]
            split = plan.split_of(*keys(record_id), record_id)
            if split is None:
                entry = json.dumps({"id": record_id, "filter_reason": "not_in_subset"}, separators=(",", ":"))
                split, line = "excluded/not_in_subset", entry.encode() + b"\n"
            expected[f"{split}/{path.name}"] = expected.get(f"{split}/{path.name}", b"") + line
    return expected


def written_outputs(out: Path) -> dict[str, bytes]:
    return {str(path.relative_to(out)): path.read_bytes() for path in sorted(out.rglob("*.jsonl"))}


def test_router_output_equals_split_of_per_line_with_small_chunks_and_blocks(work, monkeypatch):
    import trove_blocks.writers.selection as selection

    monkeypatch.setattr(selection, "ROUTE_CHUNK_ROWS", 7)  # many chunks, runs cut at chunk ends
    monkeypatch.setattr(selection, "COPY_BYTES", 100)  # runs copied in many blocks
    list(SelectionPlanner(str(work / "work"), subset_size=40, val_ratio=0.25).run())
    list(SelectionRouter(str(work / "work"), str(work / "out")).run(rank=0, world_size=1))
    expected = expected_outputs(work / "work", seed=3)
    assert written_outputs(work / "out") == expected
    assert sum(v.count(b"\n") for k, v in expected.items() if k.startswith("val/")) == 10
    assert sum(v.count(b"\n") for k, v in expected.items() if k.startswith("excluded/")) == 23


def banded_work(tmp_path: Path, records: int, val_ratio: float) -> Path:
    """Work files of ``records`` documents written in split-key bands (three files per task, two tasks)."""
    schemas = tmp_path / "schemas.jsonl"
    schemas.write_bytes(schema_line("db", "t(a, b)"))
    for rank in range(2):
        docs = (
            Document(
                text=f"question {rank}-{i}",
                id=f"data.json/{rank}-{i}",
                metadata={"sql": "SELECT  a\n FROM t", "db_id": "db", "sql_complexity": "Simple"},
            )
            for i in range(records // 2)
        )
        writer = ProcessedLineWriter(str(tmp_path / "work"), str(schemas), seed=9, val_ratio=val_ratio)
        list(writer.run(docs, rank=rank, world_size=2))
    return tmp_path / "work"


def test_banded_files_that_go_whole_to_one_split_are_hard_linked(tmp_path):
    work = banded_work(tmp_path, 40_000, val_ratio=0.1)
    assert sorted(p.name for p in (work / "lines").glob("*.jsonl")) == [
        f"{rank:05d}-{band}.jsonl" for rank in range(2) for band in ("high", "low", "mid")
    ]
    list(SelectionPlanner(str(work), subset_size=10**9, val_ratio=0.1).run())
    router = SelectionRouter(str(work), str(tmp_path / "out"))
    list(router.run(rank=0, world_size=1))
    assert written_outputs(tmp_path / "out") == expected_outputs(work, seed=9)
    for rank in range(2):  # low -> val, high -> train as the same inode; mid split by copying
        for band, split in (("low", "val"), ("high", "train")):
            output = tmp_path / "out" / split / f"{rank:05d}-{band}.jsonl"
            assert output.stat().st_ino == (work / "lines" / f"{rank:05d}-{band}.jsonl").stat().st_ino
        assert {p.parent.name for p in (tmp_path / "out").rglob(f"{rank:05d}-mid.jsonl")} == {"train", "val"}
    assert router.stats["files_linked"].total == 4
    val = sum(p.read_bytes().count(b"\n") for p in (tmp_path / "out" / "val").glob("*.jsonl"))
    assert val == 4_000


def test_banded_files_with_a_subset_cut_are_copied_line_by_line(tmp_path):
    work = banded_work(tmp_path, 2_000, val_ratio=0.5)
    list(SelectionPlanner(str(work), subset_size=1_500, val_ratio=0.5).run())
    router = SelectionRouter(str(work), str(tmp_path / "out"))
    for rank in range(4):
        list(router.run(rank=rank, world_size=4))
    assert written_outputs(tmp_path / "out") == expected_outputs(work, seed=9)
    assert router.stats["files_linked"].total == 0


def test_line_id_reads_the_last_field_with_escapes():
    import orjson

    from trove_blocks.writers.selection import line_id

    for record_id in ("data.json/12", 'quote " and \\ back', "ünï/\n/日本"):
        line = orjson.dumps({"question": 'x,"id":"fake"', "id": record_id}, option=orjson.OPT_APPEND_NEWLINE)
        assert line_id(line) == record_id


def test_planner_breaks_key_ties_by_ids_read_across_key_chunks(tmp_path, monkeypatch):
    """Keys that collide (forced here: 3 subset and 4 split key values) are ordered by id, and the planner reads
    those ids from the lines a chunk of key rows at a time."""
    from trove_blocks.splits import plan_selection
    from trove_blocks.writers import selection

    monkeypatch.setattr(selection, "ROUTE_CHUNK_ROWS", 4)
    build_sample_dir(REAL_DIR, tmp_path / "synsql")
    with open(tmp_path / "schemas.jsonl", "wb") as out:
        for entry in iter_table_entries(tmp_path / "synsql" / "tables.json"):
            out.write(schema_line(entry["db_id"], render_schema(entry, "compact")))
    records = sample_records(REAL_DIR)
    ids = [f"data.json/{i * 7}" for i in range(len(records))]
    docs = [
        Document(text=r["question"], id=record_id, metadata={k: v for k, v in r.items() if k != "question"})
        for record_id, r in zip(ids, records)
    ]

    def colliding_keys(record_id: str) -> tuple[int, int]:
        number = int(record_id.rsplit("/", 1)[1]) // 7
        return number % 3, number % 4

    writer = ProcessedLineWriter(str(tmp_path / "work"), str(tmp_path / "schemas.jsonl"), seed=5)
    writer.keys = colliding_keys
    assert len(list(writer.run(iter(docs)))) == len(docs)
    list(SelectionPlanner(str(tmp_path / "work"), subset_size=20, val_ratio=0.3).run())
    plan = json.loads((tmp_path / "work" / "plan" / "plan.json").read_text())
    expected = plan_selection(lambda: ((*colliding_keys(record_id), record_id) for record_id in ids), 20, 0.3)
    assert plan == expected.to_json()
    assert plan["kept"] == 20 and plan["val"] == 6
    assert plan["subset"]["tie_id"] is not None and plan["val_cutoff"]["tie_id"] is not None
