"""StageOutputJsonlReader (trove_blocks.readers.stage_output): an earlier stage's output folder read like
CheckedJsonlReader reads it, where no file at all (the stage kept nothing) gives no document instead of an error."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest
from datatrove.data import Document
from datatrove.pipeline.readers import JsonlReader
from datatrove.utils.logging import logger

from trove_blocks.json_stream import JsonStreamError
from trove_blocks.readers.jsonl import CheckedJsonlReader
from trove_blocks.readers.stage_output import StageOutputJsonlReader

REAL_TEXT = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "real_text"


def documents(reader, rank: int = 0, world_size: int = 1) -> list[tuple]:
    return [(doc.id, doc.text, doc.metadata) for doc in reader.run(None, rank, world_size)]


@pytest.fixture
def stage_output(tmp_path) -> Path:
    """The real text parts as a stage writes them: compressed JSONL files in one folder."""
    folder = tmp_path / "stage"
    folder.mkdir()
    for path in sorted(REAL_TEXT.glob("*.jsonl")):
        with gzip.open(folder / f"{path.stem}.jsonl.gz", "wb") as out:
            out.write(path.read_bytes())
    return folder


def test_files_are_read_as_checked_jsonl_reader_reads_them(stage_output):
    read = documents(StageOutputJsonlReader(str(stage_output), glob_pattern="*.jsonl.gz"))
    assert len(read) == sum(len(p.read_text().splitlines()) for p in REAL_TEXT.glob("*.jsonl")) > 0
    assert read == documents(CheckedJsonlReader(str(stage_output), glob_pattern="*.jsonl.gz"))


def test_tasks_share_the_files_and_read_every_document_once(stage_output):
    every = documents(StageOutputJsonlReader(str(stage_output), glob_pattern="*.jsonl.gz"))
    split = [documents(StageOutputJsonlReader(str(stage_output), glob_pattern="*.jsonl.gz"), r, 3) for r in range(3)]
    assert all(split) and sorted(doc for part in split for doc in part) == sorted(every)


@pytest.mark.parametrize("kind", ["empty folder", "no folder", "no matching file"])
def test_no_file_gives_no_document_and_says_so(tmp_path, kind):
    folder = tmp_path / "stage"
    if kind != "no folder":
        folder.mkdir()
    if kind == "no matching file":
        shutil.copy(REAL_TEXT / "part-00000.jsonl", folder / "part-00000.jsonl")  # not the stage's *.jsonl.gz
    messages = []
    sink = logger.add(lambda message: messages.append(message.record["message"]), level="INFO")
    try:
        read = documents(StageOutputJsonlReader(str(folder), glob_pattern="*.jsonl.gz"), 1, 2)
    finally:
        logger.remove(sink)
    assert read == []
    assert any("no file, so the stage before kept no document" in message for message in messages)
    if kind == "empty folder":  # what datatrove's reader does there, and this one exists to avoid
        with pytest.raises(RuntimeError, match="No files found"):
            list(JsonlReader(str(folder)).run(None, 0, 1))


def test_documents_given_to_a_reader_with_no_file_pass_through(tmp_path):
    docs = [Document("kept before", "a"), Document("also kept", "b")]
    assert list(StageOutputJsonlReader(str(tmp_path)).run(iter(docs), 0, 1)) == docs


def test_a_bad_line_still_stops_the_task_naming_the_file(tmp_path):
    (tmp_path / "00000.jsonl").write_bytes((REAL_TEXT / "part-00000.jsonl").read_bytes() + b"{not json\n")
    with pytest.raises(JsonStreamError, match=r"00000\.jsonl"):
        list(StageOutputJsonlReader(str(tmp_path)).run(None, 0, 1))
