"""The downloader's block and status check (trove_blocks.curriculum.download) on the real GSM8K sample: raw JSONL
plus stats, invalid rows to an exclusion file with their reason (kept + excluded = read), and a dataset counted as
present only while its files and settings are those its stats recorded."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from trove_blocks.curriculum.download import RawCurriculumWriter, dataset_paths, download_status
from trove_blocks.curriculum.registry import load_registry
from trove_blocks.readers.curriculum import CurriculumFileReader, valid_record

DATA = Path(__file__).resolve().parents[1] / "data" / "curriculum"
GSM8K = DATA / "gsm8k_test_head30.jsonl"
CATEGORY = "math_reasoning"


def read_gsm8k(path: Path) -> list:
    entry = load_registry().datasets["gsm8k"]
    folder, pattern = entry.local_files(path)
    return list(CurriculumFileReader(str(folder), "gsm8k", entry.format, entry.text_field, glob_pattern=pattern).run())


def write(out: Path, docs: list, settings: dict | None = None) -> tuple[RawCurriculumWriter, list]:
    writer = RawCurriculumWriter(str(out), "gsm8k", CATEGORY, "local", settings)
    return writer, list(writer.run(iter(docs)))


@pytest.fixture
def mixed(tmp_path) -> Path:
    """The real 30 rows with two rows the adapter refuses and a line that is not JSON, among them."""
    lines = GSM8K.read_text(encoding="utf-8").splitlines()
    row = json.loads(lines[0])
    bad = [json.dumps({"question": row["question"]}), "{not json", json.dumps({"answer": row["answer"]})]
    path = tmp_path / "in" / "gsm8k_mixed.jsonl"
    path.parent.mkdir()
    path.write_text("\n".join(lines[:10] + bad[:2] + lines[10:20] + bad[2:] + lines[20:]) + "\n", encoding="utf-8")
    return path


def test_valid_rows_become_the_raw_jsonl_with_its_stats(tmp_path):
    docs = read_gsm8k(GSM8K)
    settings = {"format": "gsm8k", "limit": -1}
    writer, passed = write(tmp_path / "out", docs, settings)
    jsonl, stats_path, excluded = dataset_paths(tmp_path / "out", CATEGORY, "gsm8k")
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert len(passed) == len(lines) == len(docs) == 30
    assert [line["text"] for line in lines] == [doc.text for doc in docs]
    assert [line["id"] for line in lines] == [doc.id for doc in docs]
    assert all(line["source"] == "gsm8k" and line["category"] == CATEGORY for line in lines)
    assert all(line["metadata"]["num_chars"] == len(line["text"]) for line in lines)
    assert all("source" not in line["metadata"] for line in lines)
    stats = json.loads(stats_path.read_text())
    assert stats["rows_read"] == stats["documents"] == 30 and stats["excluded"] == 0
    assert stats["chars"] == sum(len(doc.text) for doc in docs) and stats["settings"] == settings
    assert stats["bytes"] == jsonl.stat().st_size
    assert stats["sha256"] == hashlib.sha256(jsonl.read_bytes()).hexdigest()
    assert not excluded.exists() and writer.stats["documents"].total == 30
    assert download_status(tmp_path / "out", CATEGORY, "gsm8k", settings=settings).present


def test_invalid_rows_go_to_the_exclusion_file_with_their_reason_and_are_counted(mixed, tmp_path):
    docs = read_gsm8k(mixed)
    reasons = [verdict[1] for verdict in map(valid_record, docs) if verdict is not True]
    assert len(reasons) == 3
    writer, passed = write(tmp_path / "out", docs)
    jsonl, stats_path, excluded_path = dataset_paths(tmp_path / "out", CATEGORY, "gsm8k")
    excluded = [json.loads(line) for line in excluded_path.read_text(encoding="utf-8").splitlines()]
    assert [line["metadata"]["filter_reason"] for line in excluded] == reasons
    assert [line["metadata"]["record"] for line in excluded] == [
        "gsm8k/gsm8k_mixed.jsonl:11",
        "gsm8k/gsm8k_mixed.jsonl:12",
        "gsm8k/gsm8k_mixed.jsonl:23",
    ]
    assert len(passed) == len(jsonl.read_text().splitlines()) == 30
    stats = json.loads(stats_path.read_text())
    assert stats["rows_read"] == len(docs) == stats["documents"] + stats["excluded"] == 33
    assert stats["excluded_reasons"] == {reason: reasons.count(reason) for reason in set(reasons)}
    assert writer.stats["excluded"].total == 3
    assert sum(writer.stats[f"excluded_{r}"].total for r in set(reasons)) == 3


def test_a_clean_rerun_removes_the_exclusion_file_of_an_earlier_run(mixed, tmp_path):
    write(tmp_path / "out", read_gsm8k(mixed))
    _, _, excluded = dataset_paths(tmp_path / "out", CATEGORY, "gsm8k")
    assert excluded.is_file()
    write(tmp_path / "out", read_gsm8k(GSM8K))
    assert not excluded.exists()


def test_the_raw_jsonl_is_written_by_one_task(tmp_path):
    writer = RawCurriculumWriter(str(tmp_path), "gsm8k", CATEGORY, "local")
    with pytest.raises(ValueError, match="gsm8k: the raw JSONL of a dataset is written by one task, got 2"):
        list(writer.run(iter(read_gsm8k(GSM8K)), 0, 2))
    assert not any(tmp_path.rglob("*.jsonl"))


def test_status_says_why_a_dataset_is_not_present(tmp_path):
    out = tmp_path / "out"
    settings = {"format": "gsm8k", "limit": -1}

    def status(**kwargs):
        return download_status(out, CATEGORY, "gsm8k", **kwargs)

    assert (status().present, status().reason, status().stats) == (False, "not downloaded", None)
    write(out, read_gsm8k(GSM8K), settings)
    jsonl, stats_path, _ = dataset_paths(out, CATEGORY, "gsm8k")
    good, recorded = jsonl.read_bytes(), stats_path.read_text()
    assert status(settings=settings).present and status(settings=settings).reason == "present"
    assert status(settings={**settings, "limit": 5, "split": "test"}).reason == "settings changed: limit, split"
    same_size = bytearray(good)
    same_size[10] = ord("X") if same_size[10] != ord("X") else ord("Y")
    jsonl.write_bytes(bytes(same_size))
    assert status().reason == "gsm8k.jsonl sha256 differs from its stats"
    assert status(check_sha256=False).present  # the cheap check looks at the size only
    jsonl.write_bytes(good + b"\n")
    assert status().reason == "gsm8k.jsonl size differs from its stats"
    jsonl.unlink()
    missing = status()
    assert (missing.present, missing.reason, missing.stats) == (False, "gsm8k.jsonl missing", json.loads(recorded))
    jsonl.write_bytes(good)
    stats_path.write_text(recorded[: len(recorded) // 2])  # an interrupted write of the stats
    assert (status().present, status().reason) == (False, "gsm8k.stats.json is not JSON")
