"""JsonArrayReader: one file spread over tasks by byte ranges, stable ids, JSON lines, nothing silently dropped."""

from __future__ import annotations

import json
import shutil

import pytest

from trove_blocks.json_stream import JsonStreamError
from trove_blocks.readers.json_array import JsonArrayReader

REAL = "tests/data/text2sql/synsql_data_sample.json"


def read(folder, tasks, **kwargs):
    reader = JsonArrayReader(str(folder), **kwargs)
    return [doc for rank in range(tasks) for doc in reader.run(None, rank, tasks)]


@pytest.fixture
def folder(tmp_path):
    shutil.copy(REAL, tmp_path / "data.json")
    return tmp_path


def test_one_file_spreads_over_tasks_with_the_same_documents(folder):
    one = read(folder, 1, glob_pattern="data.json", text_key="question")
    assert len(one) == 27 and one[0].text.startswith("Could you tell me")
    assert set(one[0].metadata) == {"db_id", "sql_complexity", "question_style", "external_knowledge", "cot", "sql"}
    for tasks in (2, 3, 8):
        per_rank = [list(JsonArrayReader(str(folder), text_key="question").run(None, r, tasks)) for r in range(tasks)]
        assert sum(1 for docs in per_rank if docs) >= min(tasks, 3)  # work is really spread
        many = [doc for docs in per_rank for doc in docs]
        assert [(d.id, d.text, d.metadata) for d in many] == [(d.id, d.text, d.metadata) for d in one]
    assert one[0].id == "data.json/" + str(open(folder / "data.json", "rb").read().index(b"{"))


def test_json_lines_and_non_objects_and_wrong_types_are_passed_on(tmp_path):
    lines = [{"text": "a", "k": 1}, [1, 2], {"text": 5}, {"id": "mine", "text": "b"}]
    (tmp_path / "x.jsonl").write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    docs = read(tmp_path, 2)
    assert [d.text for d in docs] == ["a", "", "", "b"]
    assert docs[1].metadata == {"json_value": [1, 2]}
    assert docs[2].metadata == {"text": 5}
    assert docs[3].id == "mine" and docs[0].id.startswith("x.jsonl/0")


def test_ids_are_text_integers_become_text_and_other_values_give_the_place(tmp_path):
    lines = [
        {"id": 6, "text": "a"},
        {"id": True, "text": "b"},
        {"id": {"k": 1}, "text": "c"},
        {"id": None, "text": "d"},
    ]
    raw = "".join(json.dumps(line) + "\n" for line in lines)
    (tmp_path / "x.jsonl").write_text(raw)
    offsets = [raw.index(json.dumps(line)) for line in lines]
    assert [doc.id for doc in read(tmp_path, 1)] == ["6", *(f"x.jsonl/{offset}" for offset in offsets[1:])]


def test_truncated_file_error_names_file_and_offset(folder):
    raw = (folder / "data.json").read_bytes()
    (folder / "data.json").write_bytes(raw[: len(raw) - 500])
    with pytest.raises(JsonStreamError, match=r"data.json: byte \d+"):
        read(folder, 1)


def test_a_long_range_logs_progress_with_an_eta(folder, monkeypatch):
    """Every PROGRESS_CHECK_RECORDS records the reader looks at the clock; with a tiny interval it logs each time."""
    from datatrove.utils.logging import logger

    from trove_blocks.readers import json_array

    monkeypatch.setattr(json_array, "PROGRESS_CHECK_RECORDS", 10)
    lines: list[str] = []
    sink = logger.add(lines.append, format="{message}")
    try:
        docs = read(folder, 1, glob_pattern="data.json", progress_seconds=1e-9)
    finally:
        logger.remove(sink)
    progress = [line for line in lines if "ETA" in line]
    assert len(docs) == 27 and len(progress) == 2  # after records 10 and 20
    size = (folder / "data.json").stat().st_size
    assert f"bytes 0-{size:,}" in progress[0] and "10 records" in progress[0] and "20 records" in progress[1]
    assert "ETA ?" not in progress[1]
