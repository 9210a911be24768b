"""CheckedJsonlReader: datatrove's JsonlReader on a good file; a bad line is an error naming the file and byte."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from datatrove.pipeline.readers import JsonlReader

from trove_blocks.json_stream import JsonStreamError
from trove_blocks.readers import CheckedJsonlReader

REAL_TEXT = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "real_text"


def documents(reader) -> list[tuple]:
    return [(doc.id, doc.text, doc.metadata) for doc in reader.run(None, 0, 1)]


def test_a_good_file_gives_what_datatrove_jsonlreader_gives():
    checked = documents(CheckedJsonlReader(str(REAL_TEXT), glob_pattern="*.jsonl"))
    assert len(checked) == sum(len(path.read_text().splitlines()) for path in REAL_TEXT.glob("*.jsonl")) > 200
    assert checked == documents(JsonlReader(str(REAL_TEXT), glob_pattern="*.jsonl"))


def test_compressed_files_and_blank_lines_are_read(tmp_path):
    source = (REAL_TEXT / "part-00000.jsonl").read_bytes()
    with gzip.open(tmp_path / "part.jsonl.gz", "wb") as handle:
        handle.write(source.replace(b"\n", b"\n\n", 3))
    read = documents(CheckedJsonlReader(str(tmp_path), glob_pattern="*.jsonl.gz"))
    assert [text for _, text, _ in read] == [text for _, text, _ in documents(CheckedJsonlReader(str(REAL_TEXT)))][
        : len(read)
    ]
    assert len(read) == len(source.splitlines())

    # rows without an id get <file>/<line index>, which counts the blank lines, as datatrove's does (it warns on
    # each blank line and reads on)
    rows = [json.loads(line) for line in source.splitlines()[:5]]
    lines = [json.dumps({k: v for k, v in row.items() if k != "id"}) for row in rows]
    (tmp_path / "no_ids").mkdir()
    (tmp_path / "no_ids" / "part.jsonl").write_text("\n\n".join(lines) + "\n")
    checked = documents(CheckedJsonlReader(str(tmp_path / "no_ids")))
    assert [doc_id for doc_id, _, _ in checked] == [f"part.jsonl/{2 * i}" for i in range(5)]
    assert checked == documents(JsonlReader(str(tmp_path / "no_ids")))


@pytest.mark.parametrize(
    "bad_line, message",
    [
        (b'{"text": "cut off', "invalid JSON in record"),
        (b'["text", "a list"]', "(record #3): a JSON list, not an object"),
        (b'{"text": "caf\xe9 latin-1"}', "invalid JSON in record"),
        (b'{"body": "no text key"}', "(record #3): no text (text_key 'text')"),
    ],
)
def test_a_bad_line_is_an_error_naming_file_and_byte(tmp_path, bad_line, message):
    """datatrove's JsonlReader logs these and skips them (a byte that is not UTF-8: the rest of the file) uncounted."""
    lines = (REAL_TEXT / "part-00001.jsonl").read_bytes().splitlines(keepends=True)
    data = b"".join(lines[:3]) + bad_line + b"\n" + b"".join(lines[3:])
    (tmp_path / "part.jsonl").write_bytes(data)
    reader = CheckedJsonlReader(str(tmp_path))
    with pytest.raises(JsonStreamError) as raised:
        documents(reader)
    assert message in str(raised.value)
    start = len(b"".join(lines[:3]))
    assert str(raised.value).startswith(f"{tmp_path / 'part.jsonl'}: byte {raised.value.offset} (record #3)")
    assert start <= raised.value.offset <= start + len(bad_line)  # the line's start, or orjson's place in it


def test_the_tutorial_stops_on_a_bad_line_and_names_it(script, tmp_path):
    """Tutorial 01 read a malformed line as a warning in a task log; its summary then counted one document less."""
    data = tmp_path / "input"
    shutil.copytree(REAL_TEXT, data)
    with (data / "part-00002.jsonl").open("ab") as handle:
        handle.write(b'{"text": "a line cut off by a full disk\n')
    done = script("examples_local/01_basic_filtering.py", "--input", data, "--output", tmp_path / "out")
    assert done.returncode != 0
    shown = done.stdout + done.stderr
    assert "FAILED" in shown and f"{data / 'part-00002.jsonl'}: byte" in shown and "invalid JSON" in shown
