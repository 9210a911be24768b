"""The curriculum reader blocks (trove_blocks.readers.curriculum): bad records become counted, reasoned exclusions."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import pytest
from datatrove.utils.logging import logger

from trove_blocks.curriculum.adapters import convert_row
from trove_blocks.curriculum.registry import load_registry
from trove_blocks.json_stream import JsonStreamError
from trove_blocks.readers import curriculum
from trove_blocks.readers.curriculum import (
    CurriculumFileReader,
    CurriculumJsonlReader,
    CurriculumSourceReader,
    valid_record,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "curriculum"
os.environ["HF_HUB_OFFLINE"] = "1"


def test_jsonl_reader_turns_bad_lines_into_invalid_records_with_file_and_line(tmp_path):
    (tmp_path / "mix.jsonl").write_bytes(
        b'{"text": "good one", "id": "a", "category": "code"}\n'
        b"not json at all\n"
        b'{"id": "no text"}\n'
        b"\n"
        b'["a list"]\n'
        b'{"text": "not UTF-8 \xff"}\r\n'
        b'{"text": "good two"}\n'
    )
    docs = list(CurriculumJsonlReader(str(tmp_path)).run())
    assert len(docs) == 6
    reasons = [doc.metadata.get("invalid_reason") for doc in docs]
    assert reasons == [None, "invalid_json", "missing_text", "invalid_json", "invalid_json", None]
    assert [valid_record(doc) for doc in docs][:2] == [True, (False, "invalid_json")]
    assert docs[1].metadata["record"] == "mix.jsonl:2"
    assert docs[1].text == "not json at all" and docs[2].text == '{"id": "no text"}'
    assert docs[4].metadata["record"] == "mix.jsonl:6" and docs[4].text == '{"text": "not UTF-8 \ufffd"}'
    assert docs[0].metadata["category"] == "code"
    assert docs[5].metadata["record"] == "mix.jsonl:7"


@pytest.mark.parametrize(
    ("name", "file", "field"),
    [
        ("squad", "squad_v2_dev_sample.json", "data"),
        ("triviaqa", "triviaqa_sample.json", "Data"),
        ("sharegpt", "fastchat_dummy_conversation_sharegpt_format_20.json", None),
        ("gsm8k", "gsm8k_test_head30.jsonl", None),
    ],
)
def test_file_reader_streams_each_format_as_its_adapter_renders_the_loaded_rows(name, file, field):
    entry = load_registry().datasets[name]
    folder, pattern = entry.local_files(DATA / file)
    reader = CurriculumFileReader(str(folder), name, entry.format, entry.text_field, entry.json_field, pattern)
    docs = list(reader.run())
    text = (DATA / file).read_text(encoding="utf-8")
    loaded = [json.loads(line) for line in text.splitlines()] if file.endswith(".jsonl") else json.loads(text)
    rows = loaded[field] if field else loaded
    assert [doc.text for doc in docs] == [convert_row(entry.format, row, entry.text_field)["text"] for row in rows]
    assert all(valid_record(doc) is True and doc.metadata["source"] == name for doc in docs)
    place = {None: "[0]", "data": '["data"][0]', "Data": '["Data"][0]'}[field] if file.endswith(".json") else ":1"
    assert docs[0].metadata["record"] == f"{name}/{file}{place}"


def test_file_reader_turns_bad_rows_into_invalid_records_with_their_place(tmp_path):
    chat = {"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    (tmp_path / "a.json").write_text(json.dumps([chat, [1, 2], {"conversations": []}, chat]))
    (tmp_path / "b.jsonl").write_text(f'{json.dumps(chat)}\n\n{{not json\n"a string"\n{json.dumps(chat)}\n')
    (tmp_path / "c.json.gz").write_bytes(b"\x1f\x8b")
    reader = CurriculumFileReader(str(tmp_path), "sharegpt", "conversations")
    docs = list(reader.run())
    verdicts = [(doc.metadata["record"], valid_record(doc)) for doc in docs]
    assert verdicts == [
        ("sharegpt/a.json[0]", True),
        ("sharegpt/a.json[1]", (False, "invalid_json")),
        ("sharegpt/a.json[2]", (False, "empty_conversation")),
        ("sharegpt/a.json[3]", True),
        ("sharegpt/b.jsonl:1", True),
        ("sharegpt/b.jsonl:3", (False, "invalid_json")),
        ("sharegpt/b.jsonl:4", (False, "invalid_json")),
        ("sharegpt/b.jsonl:5", True),
    ]
    assert docs[5].text == "{not json" and docs[1].text == "[1, 2]"
    assert [doc.id for doc in docs[:2]] == ["sharegpt/a.json[0]", "sharegpt/a.json[1]"]
    assert reader.stats["skipped_files"].total == 1 and reader.stats["invalid_invalid_json"].total == 3
    assert [
        doc.metadata["record"] for doc in CurriculumFileReader(str(tmp_path), "s", "conversations", limit=2).run()
    ] == [
        "s/a.json[0]",
        "s/a.json[1]",
    ]


def test_a_utf8_byte_order_mark_is_ignored(tmp_path):
    chats = DATA / "fastchat_dummy_conversation_sharegpt_format_20.json"
    (tmp_path / "chats.json").write_bytes(b"\xef\xbb\xbf" + chats.read_bytes())
    rows = json.loads(chats.read_text())
    (tmp_path / "chats.jsonl").write_bytes(b"\xef\xbb\xbf" + "".join(json.dumps(row) + "\n" for row in rows).encode())
    for name in ("chats.json", "chats.jsonl"):
        docs = list(CurriculumFileReader(str(tmp_path), "sharegpt", "conversations", glob_pattern=name).run())
        assert len(docs) == 20 and all(valid_record(doc) is True for doc in docs), name


def test_file_reader_errors_name_the_file_and_byte(tmp_path):
    (tmp_path / "broken.json").write_text('[{"conversations": []}, {"conversations": [}]')
    with pytest.raises(JsonStreamError, match=r"broken\.json: byte 43: invalid JSON in record"):
        list(CurriculumFileReader(str(tmp_path), "sharegpt", "conversations").run())
    (tmp_path / "broken.json").write_text('{"version": "v2", "paragraphs": []}')
    with pytest.raises(JsonStreamError, match="broken.json: byte 34: the top-level object has no field 'data'"):
        list(CurriculumFileReader(str(tmp_path), "squad", "squad", json_field="data").run())
    (tmp_path / "broken.json").write_text(json.dumps({"data": [{"title": "t", "paragraphs": []}]}, indent=2))
    with pytest.raises(ValueError, match="broken.json: its first line is not a JSON object.*json_field of 'squad'"):
        list(CurriculumFileReader(str(tmp_path), "squad", "squad").run())


def test_file_reader_memory_does_not_grow_with_the_file(tmp_path):
    """The rows of a JSON array are streamed: 4x the rows, about the same peak (``datasets`` loads such a file
    whole: 0.73 GB for 50 MB of ShareGPT)."""
    chat = {
        "id": "x",
        "conversations": [{"from": "human", "value": "question " * 40}, {"from": "gpt", "value": "an answer " * 40}],
    }
    peaks = []
    for rows in (6000, 24000):
        folder = tmp_path / str(rows)
        folder.mkdir()
        (folder / "chats.json").write_text(json.dumps([chat] * rows))
        tracemalloc.start()
        count = sum(1 for _ in CurriculumFileReader(str(folder), "sharegpt", "conversations").run())
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert count == rows
    assert (tmp_path / "6000" / "chats.json").stat().st_size > 4 * 2**20, "several read chunks"
    assert peaks[1] < 1.5 * peaks[0], peaks


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


def test_readers_log_progress_through_each_file(tmp_path, monkeypatch):
    monkeypatch.setattr(curriculum, "PROGRESS_CHECK_RECORDS", 1)
    chat = {"text": "a chat", "conversations": [{"from": "human", "value": "hi"}]}
    (tmp_path / "a.json").write_text(json.dumps([chat] * 3))
    (tmp_path / "b.jsonl").write_text(f"{json.dumps(chat)}\n" * 3)
    lines = []
    sink = logger.add(lambda message: lines.append(message.record["message"]), level="INFO")
    try:
        docs = list(CurriculumFileReader(str(tmp_path), "sharegpt", "conversations", progress_seconds=1e-9).run())
        docs += CurriculumJsonlReader(str(tmp_path), progress_seconds=1e-9).run()
    finally:
        logger.remove(sink)
    assert len(docs) == 9
    progress = [line for line in lines if "records/s" in line]
    assert [line.split(":")[0].rsplit("/", 1)[1] for line in progress] == ["a.json"] * 3 + ["b.jsonl"] * 6
    assert "3 records" in progress[2] and "ETA" in progress[2]
