"""PackedParquetWriter + PackedManifestWriter on the real curriculum samples with the real cl100k tokenizer."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from datatrove.data import Document

from trove_blocks.curriculum.adapters import convert_row
from trove_blocks.manifest import MANIFEST_NAME, load_manifest, verify_manifest
from trove_blocks.packing import IGNORE_INDEX
from trove_blocks.tokenizers import load_tokenizer
from trove_blocks.writers.packed_parquet import PackedManifestWriter, PackedParquetWriter, TokenBatchEncoder

DATA = Path(__file__).resolve().parents[1] / "data" / "curriculum"
os.environ["HF_HUB_OFFLINE"] = "1"
EOS = 100257  # cl100k <|endoftext|>


def real_documents() -> list[Document]:
    """GSM8K + NQ + ShareGPT rows as documents of two splits (two input files)."""
    docs = []
    for name, fmt, category in [
        ("gsm8k_test_head30.jsonl", "gsm8k", "math_reasoning"),
        ("nq_open_dev_head30.jsonl", "qa_answers", "factual_qa"),
    ]:
        for index, line in enumerate((DATA / name).read_text().splitlines()):
            row = convert_row(fmt, json.loads(line))
            docs.append(
                Document(row["text"], f"{name}/{index}", metadata={"file_path": f"/in/{name}", "category": category})
            )
    chats = json.loads((DATA / "fastchat_dummy_conversation_sharegpt_format_20.json").read_text())
    for row in chats:
        text = convert_row("conversations", row)["text"] * 4  # longer than a 128-token row
        docs.append(
            Document(text, row["id"], metadata={"file_path": "/in/chats.jsonl", "category": "instruction_chat"})
        )
    return docs


def run_writer(tmp_path, packing, max_seq_length=128, shard_size_bytes=2500, **kwargs):
    writer = PackedParquetWriter(
        str(tmp_path),
        "cl100k_base",
        max_seq_length=max_seq_length,
        packing=packing,
        shard_size_bytes=shard_size_bytes,
        batch_size=7,
        row_group_bytes=16 * 3 * 4 * 128,
        **kwargs,
    )
    docs = real_documents()
    passed = list(writer.run(iter(docs)))
    assert len(passed) == len(docs)
    return writer, docs


def split_rows(tmp_path, split):
    shards = sorted((tmp_path / split).glob("shard_*.parquet"))
    return shards, [row for shard in shards for row in pq.read_table(shard).to_pylist()]


@pytest.mark.parametrize("packing", ["concat", "bfd"])
def test_shards_hold_every_token_of_every_document(tmp_path, packing):
    writer, docs = run_writer(tmp_path, packing)
    hf = load_tokenizer("cl100k_base")  # independent of the writer's tiktoken path
    for split, source in [("gsm8k_test_head30", "gsm8k_test_head30.jsonl"), ("chats", "chats.jsonl")]:
        expected = [
            hf.encode(doc.text, add_special_tokens=False).ids + [EOS]
            for doc in docs
            if doc.metadata["file_path"].endswith(source)
        ]
        shards, rows = split_rows(tmp_path, split)
        assert rows and all(len(row[col]) == 128 for row in rows for col in ("input_ids", "attention_mask", "labels"))
        pieces = []
        for row in rows:
            assert sum(row["attention_mask"]) == sum(row["seq_lengths"])
            start = 0
            for length in row["seq_lengths"]:
                pieces.append(row["input_ids"][start : start + length])
                start += length
        if packing == "concat":
            assert [t for piece in pieces for t in piece] == [t for doc in expected for t in doc]
        else:
            chunks = [doc[i : i + 128] for doc in expected for i in range(0, len(doc), 128)]
            assert sorted(map(tuple, pieces)) == sorted(map(tuple, chunks))
        record = json.loads((tmp_path / split / f"{split}_stats.json").read_text())
        assert record["samples"] == len(expected)
        assert record["tokens"] == sum(map(len, expected))
        assert record["sequences"] == len(rows) == sum(shard["rows"] for shard in record["shard_files"])
        assert record["padding_tokens"] == 128 * len(rows) - record["tokens"]
    assert len(split_rows(tmp_path, "chats")[0]) > 1, "shards rotate at shard_size_bytes"


def test_labels_are_shifted_inside_documents(tmp_path):
    run_writer(tmp_path, "concat")
    _, rows = split_rows(tmp_path, "chats")
    for row in rows:
        ids, labels = np.array(row["input_ids"]), np.array(row["labels"])
        ends = np.cumsum(row["seq_lengths"]) - 1
        inside = np.ones(128, dtype=bool)
        inside[ends] = False
        inside[sum(row["seq_lengths"]) :] = False
        assert (labels[:-1][inside[:-1]] == ids[1:][inside[:-1]]).all()
        assert (labels[~inside] == IGNORE_INDEX).all()


def test_manifest_verifies_and_datasets_loads_the_shards(tmp_path):
    from datasets import load_dataset

    run_writer(tmp_path, "bfd")
    splits = ["chats", "gsm8k_test_head30", "nq_open_dev_head30"]
    step = PackedManifestWriter(
        str(tmp_path),
        splits,
        "cl100k_base",
        128,
        1.0,
        "/in",
        "bfd",
        {"math_reasoning": 0.2, "factual_qa": 0.1, "instruction_chat": 0.35},
    )
    list(step.run())
    manifest = load_manifest(tmp_path)
    assert verify_manifest(tmp_path) == []
    assert set(manifest["splits"]) == set(splits)
    assert manifest["mixture"]["instruction_chat"]["tokens"] == manifest["splits"]["chats"]["tokens"]
    assert abs(sum(row["share"] for row in manifest["mixture"].values()) - 1) < 1e-3
    files = [str(tmp_path / shard["path"]) for split in manifest["splits"].values() for shard in split["shard_files"]]
    dataset = load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "_hf"))
    damaged = bytearray(Path(files[0]).read_bytes())  # pages carry CRCs: a flipped value byte is caught on read
    for at in range(200, 300):
        damaged[at] ^= 0xFF
    (tmp_path / "damaged.parquet").write_bytes(bytes(damaged))
    with pytest.raises(OSError, match="CRC checksum verification failed"):
        pq.ParquetFile(tmp_path / "damaged.parquet", page_checksum_verification=True).read()
    assert len(dataset) == sum(split["sequences"] for split in manifest["splits"].values())
    assert set(dataset.column_names) == {"input_ids", "attention_mask", "labels", "seq_lengths"}
    assert len(dataset[0]["input_ids"]) == 128


def test_manifest_is_not_written_when_a_shard_is_corrupt(tmp_path):
    run_writer(tmp_path, "concat")
    shard = tmp_path / "chats" / "shard_0001.parquet"
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    step = PackedManifestWriter(str(tmp_path), ["chats", "missing_split"], "cl100k_base", 128, 1.0, "/in", "concat", {})
    with pytest.raises(RuntimeError) as raised:
        list(step.run())
    assert "chats/shard_0001.parquet: sha256" in str(raised.value)
    assert "split missing_split: no missing_split/missing_split_stats.json" in str(raised.value)
    assert not (tmp_path / MANIFEST_NAME).exists()


def test_tiktoken_path_gives_the_hf_ids():
    texts = [doc.text for doc in real_documents()] + ["a <|endoftext|> b 1920 12345", "  spaces\n\n\ttabs 3.14159"]
    fast = TokenBatchEncoder("cl100k_base", eos_token="none")
    slow = TokenBatchEncoder("cl100k_base", eos_token="none", use_tiktoken=False)
    assert fast.tiktoken is not None and slow.tiktoken is None
    assert fast.encode(texts) == slow.encode(texts)


def test_a_rerun_replaces_a_split_whole(tmp_path):
    run_writer(tmp_path, "concat", shard_size_bytes=2000)
    many = len(split_rows(tmp_path, "chats")[0])
    run_writer(tmp_path, "concat", shard_size_bytes=10**9)
    shards, _ = split_rows(tmp_path, "chats")
    assert many > 1 and len(shards) == 1, "stale shards of the earlier run are gone"


def test_a_crash_mid_split_leaves_no_record_and_no_temporary_file(tmp_path):
    writer = PackedParquetWriter(str(tmp_path), "cl100k_base", max_seq_length=128, shard_size_bytes=10**9, batch_size=7)

    def documents_then_crash():
        yield from real_documents()[:45]  # all of gsm8k, half of nq
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError, match="killed"):
        list(writer.run(documents_then_crash()))
    assert (tmp_path / "gsm8k_test_head30" / "gsm8k_test_head30_stats.json").is_file()
    assert not (tmp_path / "nq_open_dev_head30" / "nq_open_dev_head30_stats.json").exists()
    assert not [path for path in tmp_path.rglob("*") if ".tmp-" in path.name]
    step = PackedManifestWriter(
        str(tmp_path), ["gsm8k_test_head30", "nq_open_dev_head30"], "cl100k_base", 128, 1.0, "/in", "concat", {}
    )
    with pytest.raises(RuntimeError, match="split nq_open_dev_head30: no nq_open_dev_head30/"):
        list(step.run())
    assert not (tmp_path / MANIFEST_NAME).exists()


def test_a_tokenizer_json_path_takes_the_hf_path_and_writes_the_same_rows(tmp_path):
    from trove_blocks.tokenizers import tokenizer_file

    for name, spec in [("fast", "cl100k_base"), ("hf", str(tokenizer_file("cl100k_base")))]:
        writer = PackedParquetWriter(str(tmp_path / name), spec, max_seq_length=128, packing="bfd", batch_size=7)
        list(writer.run(iter(real_documents())))
        assert (writer.encoder.tiktoken is None) == (name == "hf")
    for split in ("chats", "gsm8k_test_head30", "nq_open_dev_head30"):
        assert split_rows(tmp_path / "fast", split)[1] == split_rows(tmp_path / "hf", split)[1]
