"""The curriculum reader blocks (trove_blocks.readers.curriculum): bad records become counted, reasoned exclusions."""

from __future__ import annotations

import os
from pathlib import Path

from trove_blocks.curriculum.registry import load_registry
from trove_blocks.readers.curriculum import CurriculumJsonlReader, CurriculumSourceReader, valid_record

DATA = Path(__file__).resolve().parents[1] / "data" / "curriculum"
os.environ["HF_HUB_OFFLINE"] = "1"


def test_jsonl_reader_turns_bad_lines_into_invalid_records_with_file_and_line(tmp_path):
    (tmp_path / "mix.jsonl").write_text(
        '{"text": "good one", "id": "a", "category": "code"}\n'
        "not json at all\n"
        '{"id": "no text"}\n'
        "\n"
        '["a list"]\n'
        '{"text": "good two"}\n'
    )
    docs = list(CurriculumJsonlReader(str(tmp_path)).run())
    assert len(docs) == 5
    verdicts = [valid_record(doc) for doc in docs]
    assert verdicts == [True, (False, "invalid_json"), (False, "missing_text"), (False, "invalid_json"), True]
    assert docs[1].metadata["record"] == "mix.jsonl:2"
    assert docs[1].text == "not json at all"
    assert docs[0].metadata["category"] == "code"
    assert docs[5 - 1].metadata["record"] == "mix.jsonl:6"


def test_source_reader_reads_local_nested_json_through_huggingface_reader():
    entry = load_registry().datasets["squad"]
    dataset, options = entry.load_options(DATA / "squad_v2_dev_sample.json")
    reader = CurriculumSourceReader(dataset, options, entry.name, entry.format)
    docs = list(reader.run())
    assert len(docs) == 2
    assert all(valid_record(doc) is True for doc in docs)
    assert docs[0].metadata["source"] == "squad" and docs[0].text.startswith("# Normans")


def test_source_reader_marks_rows_its_adapter_refuses(tmp_path):
    (tmp_path / "chats.jsonl").write_text(
        '{"id": "1", "conversations": [{"from": "human", "value": "hi"}]}\n{"id": "2", "conversations": []}\n'
    )
    reader = CurriculumSourceReader(
        "json", {"data_files": str(tmp_path / "chats.jsonl"), "split": "train"}, "sharegpt", "conversations"
    )
    docs = list(reader.run())
    assert [valid_record(doc) for doc in docs] == [True, (False, "empty_conversation")]
    assert docs[1].metadata["record"] == "sharegpt/00000/1"
