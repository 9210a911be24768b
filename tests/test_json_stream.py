"""The byte-range JSON scanner on the real SynSQL records: every task count gives every record exactly once."""

from __future__ import annotations

import io
import json
import pickle
import random
import re
from pathlib import Path

import pytest

from trove_blocks import json_stream
from trove_blocks.json_stream import (
    UTF8_BOM,
    BoundaryMismatchError,
    JsonStreamError,
    byte_range_shard,
    first_byte,
    iter_field_array,
    iter_records,
)

REAL = json.loads(open("tests/data/text2sql/synsql_data_sample.json", encoding="utf-8").read())
CHATS = Path("tests/data/curriculum/fastchat_dummy_conversation_sharegpt_format_20.json")
SQUAD = Path("tests/data/curriculum/squad_v2_dev_sample.json")


def read_all(raw: bytes, tasks: int) -> list:
    records = []
    for rank in range(tasks):
        for _, start, end in byte_range_shard([len(raw)], rank, tasks):
            records += [r.decode("mem") for r in iter_records(io.BytesIO(raw), "mem", start, end, len(raw))]
    return records


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    """Tiny read chunks so records and strings straddle chunk edges everywhere."""
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", 97)


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("tasks", [1, 2, 3, 5, 16, 200])
def test_every_task_count_reads_each_record_once(indent, tasks):
    raw = json.dumps(REAL, indent=indent, ensure_ascii=False).encode()
    assert read_all(raw, tasks) == REAL


def test_offsets_are_record_starts_and_independent_of_tasks():
    raw = json.dumps(REAL, indent=1).encode()
    one = [r.offset for r in iter_records(io.BytesIO(raw), "m", 0, len(raw), len(raw))]
    many = []
    for rank in range(7):
        for _, s, e in byte_range_shard([len(raw)], rank, 7):
            many += [r.offset for r in iter_records(io.BytesIO(raw), "m", s, e, len(raw))]
    assert one == many
    assert all(raw[o : o + 1] == b"{" for o in one)


def test_json_lines_split_on_newlines():
    raw = b"".join(json.dumps(r).encode() + b"\n" for r in REAL) + b"\n"
    for tasks in (1, 4, 30):
        assert read_all(raw, tasks) == REAL


def test_strings_that_look_like_records_do_not_fool_the_split():
    tricky = [{"cot": 'x, {"a": 1}, {"b": [2]} ]', "sql": 'a\\"}, {'}, {"q": "\\\\"}] * 40
    raw = json.dumps(tricky).encode()
    for tasks in (1, 3, 11, 64):
        assert read_all(raw, tasks) == tricky


def test_truncated_file_names_the_byte_offset():
    raw = json.dumps(REAL, indent=2).encode()
    cut = raw[: len(raw) // 2]
    with pytest.raises(JsonStreamError, match=r"mem: byte \d+ \(record #\d+\): truncated"):
        read_all(cut, 1)


def test_malformed_separator_names_the_byte_offset():
    raw = json.dumps(REAL[:3]).encode()
    first_end = raw.index(b"}, {") + 1
    broken = raw[:first_end] + b" ; " + raw[first_end + 1 :]
    with pytest.raises(JsonStreamError) as caught:
        read_all(broken, 1)
    assert caught.value.offset == first_end + 1
    assert "expected ',' or ']'" in str(caught.value)


def test_invalid_record_json_names_its_offset():
    raw = b'[{"a": 1}, {"a": tru}]'
    with pytest.raises(JsonStreamError, match="invalid JSON in record"):
        read_all(raw, 1)


@pytest.mark.parametrize("error_type", [JsonStreamError, json_stream.BoundaryMismatchError])
def test_errors_survive_pickling_as_a_task_error_crossing_processes_does(error_type):
    error = error_type("data.json", 48067, "truncated record", 12)
    copy = pickle.loads(pickle.dumps(error))
    assert (
        type(copy) is error_type and str(copy) == str(error) == "data.json: byte 48067 (record #12): truncated record"
    )
    assert (copy.path, copy.offset, copy.record_index) == ("data.json", 48067, 12)


def test_nested_arrays_of_objects_fail_loudly_when_split():
    nested = [{"rows": [{"x": i}, {"y": i}, {"z": i}] * 30} for i in range(4)]
    raw = json.dumps(nested).encode()
    assert read_all(raw, 1) == nested
    with pytest.raises(BoundaryMismatchError, match="cannot split this file here"):
        read_all(raw, 5)


def test_byte_ranges_cover_all_files_without_overlap():
    sizes = [0, 10, 1000, 3, 57]
    for tasks in (1, 2, 7, 2000):
        seen = [0] * len(sizes)
        for rank in range(tasks):
            for index, start, end in byte_range_shard(sizes, rank, tasks):
                assert 0 <= start < end <= sizes[index]
                seen[index] += end - start
        assert seen == sizes


def offsets_and_values(raw: bytes, tasks: int = 1) -> list[tuple[int, object]]:
    found = []
    for rank in range(tasks):
        for _, start, end in byte_range_shard([len(raw)], rank, tasks):
            found += [(r.offset, r.decode("mem")) for r in iter_records(io.BytesIO(raw), "mem", start, end, len(raw))]
    return found


def random_value(rng: random.Random, depth: int = 0):
    """Strings full of braces, commas and escapes, and (less often) nested objects and arrays of objects."""
    kind = rng.randrange(6 if depth < 2 else 3)
    if kind == 0:
        return rng.choice([None, True, 3, -0.5, ""])
    if kind in (1, 2):
        pieces = ["}", "},", "} ,", "}]", "}\n]", "{", '"', "\\", " ", "\n", "x", "]", "[", ",", "é", "\t"]
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(30)))
    if kind == 3:
        return {f"n{j}": random_value(rng, depth + 1) for j in range(rng.randrange(3))}
    return [random_value(rng, depth + 1) for _ in range(rng.randrange(3))]


@pytest.mark.parametrize("chunk", [97, 4096, 1 << 20])
@pytest.mark.parametrize("indent", [None, 0, 2])
@pytest.mark.parametrize(("braces", "span"), [(64, 4096), (1, 16)])
def test_guessed_object_ends_equal_the_exact_scan(monkeypatch, chunk, indent, braces, span):
    """Ends found by decoding at a guessed ``}``, or where orjson says the content after the object begins (from a
    span of 16 bytes growing 4x), give the same records and offsets as the exact scan alone."""
    rng = random.Random(chunk * 10 + (indent or 0))
    records = [{f"k{j}": random_value(rng) for j in range(rng.randrange(6))} for _ in range(400)]
    raw = json.dumps(records, indent=indent, ensure_ascii=rng.random() < 0.5).encode()
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(json_stream, "MAX_CLOSING_BRACES", braces)
    monkeypatch.setattr(json_stream, "TRAILING_SPAN_BYTES", span)
    guessed = offsets_and_values(raw, tasks=3)
    monkeypatch.setattr(json_stream, "MAX_CLOSING_BRACES", 0)
    assert guessed == offsets_and_values(raw, tasks=3)
    assert [value for _, value in guessed] == records


def test_real_records_need_no_exact_scan(monkeypatch):
    """With a window larger than a record, every SynSQL record is found by a guess that decodes."""
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", 1 << 20)
    scans = []
    monkeypatch.setattr(json_stream._Window, "element_end", lambda self, i: scans.append(i))
    raw = json.dumps(REAL, indent=2).encode()
    assert [value for _, value in offsets_and_values(raw)] == REAL
    assert scans == []


@pytest.mark.parametrize(
    "records",
    [
        [{"cot": "}, " * 500, "nested": [{"a": {}}, {"b": [{}]}] * 20}, {"q": "} ]"}] * 3,
        json.loads(CHATS.read_text(encoding="utf-8")),
        json.loads(SQUAD.read_text(encoding="utf-8"))["data"],
        [{"turns": [{"from": "human", "value": "héllo, 日本語 🎉 ünïcode"}, {"value": "é" * 3000}]}] * 3,
    ],
    ids=["braces", "sharegpt", "squad", "non-ascii"],
)
def test_nested_objects_are_found_by_orjson_without_the_exact_scan(monkeypatch, records):
    """Records whose first ``}`` followed by ``,`` is not their end (real chats and SQuAD articles)."""
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", 1 << 20)
    scans = []
    monkeypatch.setattr(json_stream._Window, "element_end", lambda self, i: scans.append(i))
    for indent in (None, 2):
        raw = json.dumps(records, indent=indent, ensure_ascii=False).encode()
        assert [value for _, value in offsets_and_values(raw)] == records
    assert scans == []


@pytest.mark.parametrize("chunk", [97, 1 << 20])
def test_malformed_record_error_is_the_exact_scans(monkeypatch, chunk):
    """A record that does not decode is left to the exact scan, so its error names the same byte."""
    monkeypatch.setattr(json_stream, "CHUNK_BYTES", chunk)
    raw = b'[{"a": "x}, {"}, {"a": [1, 2}, {"b": 3}]'
    errors = []
    for braces in (json_stream.MAX_CLOSING_BRACES, 0):
        monkeypatch.setattr(json_stream, "MAX_CLOSING_BRACES", braces)
        with pytest.raises(JsonStreamError, match="invalid JSON in record") as caught:
            offsets_and_values(raw)
        errors.append((caught.value.offset, str(caught.value)))
    assert errors[0] == errors[1]
    assert errors[0][0] == raw.index(b'}, {"b"')


@pytest.mark.parametrize("indent", [None, 2])
def test_field_array_is_found_after_values_that_look_like_it(indent):
    """Keys and values before the field hold brackets, braces, quotes and the field's name in strings."""
    document = {
        "version": 'v2.0 ["data": [{',
        "note": {"data": [{"x": 1}], "s": "}]"},
        "list": [[], {"data": "["}],
        "data": REAL,
        "after": [1, 2],
    }
    raw = json.dumps(document, indent=indent, ensure_ascii=False).encode()
    records = list(iter_field_array(io.BytesIO(raw), "m", "data"))
    assert [r.decode("m") for r in records] == REAL
    assert all(raw[r.offset : r.offset + len(r.data)] == r.data for r in records)
    assert [r.decode("m") for r in iter_field_array(io.BytesIO(raw), "m", "list")] == [[], {"data": "["}]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"version": 1}', "byte 13: the top-level object has no field 'data'"),
        (b'{"data": {"a": 1}}', "byte 9: the field 'data' does not hold an array"),
        (b'[{"data": []}]', "byte 0: expected a JSON object"),
        (b'{"version": "v1" "data": []}', "byte 17: expected ',' or '}' after the value of 'version'"),
        (b'{"data": [{"a": 1}, {"a": 2}', "truncated: the array is not closed"),
        (b'{"version": "v1', "truncated value of 'version'"),
        (b'{"data": [{"a": 1},]}', "trailing comma"),
    ],
)
def test_field_array_errors_name_the_byte(raw, message):
    with pytest.raises(JsonStreamError, match=re.escape(message)):
        list(iter_field_array(io.BytesIO(raw), "f.json", "data"))


@pytest.mark.parametrize("text", ['[{"a": 1}, {"a": 2}]', '{"a": 1}\n{"a": 2}\n'], ids=["array", "lines"])
def test_a_utf8_byte_order_mark_is_ignored(text):
    raw = UTF8_BOM + text.encode()
    for tasks in (1, 2):
        assert read_all(raw, tasks) == [{"a": 1}, {"a": 2}]
    data = UTF8_BOM + b'{"data": [{"a": 1}]}'
    assert [record.decode("x") for record in iter_field_array(io.BytesIO(data), "x", "data")] == [{"a": 1}]


def test_first_byte_skips_whitespace():
    assert first_byte(io.BytesIO(b" \n\t [1]")) == b"["
    assert first_byte(io.BytesIO(b"\n" * 300 + b'{"a": 1}')) == b"{"
    assert first_byte(io.BytesIO(b"  \n")) == b""
