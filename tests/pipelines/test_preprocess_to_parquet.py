"""pipelines/preprocess_to_parquet.py (+ verify_manifest.py) end to end on the real curriculum samples, offline."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = "pipelines/preprocess_to_parquet.py"
VERIFY = "pipelines/verify_manifest.py"
REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "curriculum"
SOURCES = {
    "gsm8k": "gsm8k_test_head30.jsonl",
    "natural_questions": "nq_open_dev_head30.jsonl",
    "squad": "squad_v2_dev_sample.json",
    "triviaqa": "triviaqa_sample.json",
    "sharegpt": "fastchat_dummy_conversation_sharegpt_format_20.json",
}
SPLITS = set(SOURCES)


@pytest.fixture(scope="module")
def raw(tmp_path_factory):
    """The real samples as raw curriculum JSONL, made by the downloader (<category>/<name>.jsonl)."""
    out = tmp_path_factory.mktemp("curriculum") / "distillation"
    sources = [arg for name, file in SOURCES.items() for arg in ("--source", f"{name}={DATA / file}")]
    command = [sys.executable, str(REPO / "pipelines/download_curriculum.py"), "--output", str(out), "--only-sources"]
    done = subprocess.run([*command, *sources], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def preprocess(script, raw, output, *args):
    return script(
        SCRIPT,
        "--input",
        raw,
        "--output",
        output,
        "--recursive",
        "--tokenizer",
        "cl100k_base",
        "--max-seq-length",
        "256",
        *args,
    )


def test_bfd_run_writes_verified_shards_a_manifest_and_the_mixture(raw, tmp_path, script):
    from datasets import load_dataset

    out = tmp_path / "packed"
    done = preprocess(script, raw, out, "--packing", "bfd", "--shard-size", "0.000004")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "read: 83, kept: 83, excluded: 0" in done.stdout
    assert "math_reasoning" in done.stdout and "20%" in done.stdout, "mixture report printed"
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["splits"]) == SPLITS
    assert manifest["tokenizer"] == "cl100k_base" and manifest["max_seq_length"] == 256
    assert manifest["packing"] == "bfd" and manifest["files_processed"] == 5
    assert manifest["splits"]["gsm8k"]["samples"] == 30 and manifest["splits"]["gsm8k"]["category"] == "math_reasoning"
    assert manifest["splits"]["gsm8k"]["shards"] > 1, "shards rotate at --shard-size"
    for split in manifest["splits"].values():
        assert split["padding_tokens"] == 256 * split["sequences"] - split["tokens"]
    verified = script(VERIFY, out)
    assert verified.returncode == 0 and "problems: 0" in verified.stdout
    files = sorted(str(p) for p in out.glob("*/shard_*.parquet"))
    dataset = load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "_hf"))
    assert len(dataset) == sum(split["sequences"] for split in manifest["splits"].values())
    assert all(len(ids) == 256 for ids in dataset["input_ids"])


def test_skip_existing_redoes_only_splits_that_do_not_verify(raw, tmp_path, script):
    out = tmp_path / "packed"
    assert preprocess(script, raw, out).returncode == 0
    shard = out / "squad" / "shard_0000.parquet"
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0x01
    shard.write_bytes(bytes(data))
    verified = script(VERIFY, out)
    assert verified.returncode == 1 and "PROBLEM squad/shard_0000.parquet: sha256" in verified.stdout

    # a plain re-run finds its ranks complete; the manifest stage re-verifies and refuses: no manifest
    stale = preprocess(script, raw, out)
    assert stale.returncode == 1
    assert not (out / "manifest.json").exists()

    again = preprocess(script, raw, out, "--skip-existing")
    assert again.returncode == 0, again.stderr[-3000:]
    assert {line.split()[1].rstrip(":") for line in again.stdout.splitlines() if line.startswith("skip ")} == SPLITS - {
        "squad"
    }
    assert "read: 2," in again.stdout
    assert script(VERIFY, out).returncode == 0


def test_bad_lines_are_excluded_with_file_line_and_reason(tmp_path, script):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "mine.jsonl").write_text(
        '{"text": "A fine document.", "id": "1", "category": "code"}\n{"text": ""}\nnot json\n{"text": "Another."}\n'
    )
    (raw / "allbad.jsonl").write_text('{"id": "no text"}\n')
    (raw / "empty.jsonl").write_text("")
    out = tmp_path / "packed"
    done = preprocess(script, raw, out)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "read: 5, kept: 2, excluded: 3" in done.stdout
    excluded = [json.loads(line) for p in (out / "_excluded").glob("*/*.jsonl") for line in p.read_text().splitlines()]
    assert sorted(p.name for p in (out / "_excluded").iterdir()) == ["allbad", "mine"]
    assert sorted((doc["metadata"]["filter_reason"], doc["metadata"]["record"]) for doc in excluded) == [
        ("invalid_json", "mine.jsonl:3"),
        ("missing_text", "allbad.jsonl:1"),
        ("missing_text", "mine.jsonl:2"),
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    for empty in ("allbad", "empty"):  # files without a usable document are splits with no rows
        assert (manifest["splits"][empty]["shards"], manifest["splits"][empty]["sequences"]) == (0, 0)
    assert manifest["splits"]["mine"]["samples"] == 2
    # the first document says its category; the other has none (no category folder, no registry source)
    assert set(manifest["splits"]["mine"]["category_tokens"]) == {"code", "uncategorized"}
    assert manifest["mixture"]["uncategorized"]["target_share"] is None


def test_changed_inputs_are_packed_again_and_leave_no_stale_exclusions(tmp_path, script):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_text('{"text": "One document."}\n{"text": "Two documents."}\n')
    (raw / "b.jsonl").write_text('{"text": "Kept."}\nnot json\n')
    out = tmp_path / "packed"

    def excluded() -> list[str]:
        files = (out / "_excluded").glob("*/*.jsonl")
        return sorted(
            json.loads(line)["metadata"]["record"] for path in files for line in path.read_text().splitlines()
        )

    assert preprocess(script, raw, out, "--tasks", "2").returncode == 0
    assert excluded() == ["b.jsonl:2"]
    (raw / "b.jsonl").write_text('{"text": "Kept."}\n')  # the bad line fixed
    fixed = preprocess(script, raw, out, "--tasks", "1")
    assert fixed.returncode == 0 and "excluded: 0" in fixed.stdout
    assert excluded() == [], "the exclusion of the earlier run is gone"

    (raw / "a.jsonl").write_text('{"text": "One document."}\n')  # an input changed: --skip-existing packs it again
    again = preprocess(script, raw, out, "--skip-existing")
    assert again.returncode == 0, again.stderr[-3000:]
    assert [line for line in again.stdout.splitlines() if line.startswith("skip ")] == [
        "skip b: 1 rows in 1 verified shards"
    ]
    assert json.loads((out / "manifest.json").read_text())["splits"]["a"]["samples"] == 1

    (out / "b" / "b_stats.json").write_text('{"name": ')  # a damaged split record: that split is packed again
    damaged = preprocess(script, raw, out, "--skip-existing")
    assert damaged.returncode == 0, damaged.stderr[-3000:]
    assert "pack b again: " in damaged.stdout and "b_stats.json: not a split record" in damaged.stdout
    assert json.loads((out / "b" / "b_stats.json").read_text())["samples"] == 1


def test_skip_existing_packs_again_after_a_local_tokenizer_file_changed(tmp_path, script):
    from trove_blocks.tokenizers import tokenizer_file

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_text('{"text": "One document."}\n')
    tokenizer = tmp_path / "tokenizer.json"
    tokenizer.write_bytes(tokenizer_file("cl100k_base").read_bytes())
    out = tmp_path / "packed"
    args = ("--input", raw, "--output", out, "--tokenizer", tokenizer, "--max-seq-length", "64", "--skip-existing")
    assert script(SCRIPT, *args).returncode == 0
    assert "skip a: " in script(SCRIPT, *args).stdout
    tokenizer.write_text(tokenizer.read_text() + "\n")  # edited (here without changing its vocabulary)
    again = script(SCRIPT, *args)
    assert again.returncode == 0 and "skip a: " not in again.stdout


def test_verify_names_a_damaged_manifest(tmp_path, script):
    manifest = tmp_path / "manifest.json"
    for text, code, message in (
        ('{"splits": {"a": ', 2, "manifest.json: not a manifest, not valid JSON"),
        ("[]", 2, "manifest.json: not a manifest, no 'splits' mapping"),
        ('{"max_seq_length": 8, "splits": {"a": []}}', 2, "split 'a' is not a split record with shard_files"),
        ('{"splits": {}}', 2, "max_seq_length is None"),
        ('{"format_version": 1, "max_seq_length": 8, "splits": {"a": {"name": "a"}}}', 1, "PROBLEM split a: not a"),
    ):
        manifest.write_text(text)
        done = script(VERIFY, tmp_path)
        assert done.returncode == code and message in done.stdout + done.stderr, done.stdout + done.stderr


def test_no_jsonl_hint_and_offline_tokenizer_hint(raw, tmp_path, script):
    done = script(SCRIPT, "--input", raw, "--output", tmp_path / "o", "--tokenizer", "cl100k_base")
    assert done.returncode == 2
    assert "No JSONL files found" in done.stderr and "--recursive" in done.stderr
    done = script(SCRIPT, "--input", raw, "--output", tmp_path / "o", "--recursive")
    assert done.returncode == 2
    assert "meta-llama/Llama-3.2-1B" in done.stderr and "HF_HUB_OFFLINE" in done.stderr
    assert "--tokenizer cl100k_base" in done.stderr and "huggingface-cli login" in done.stderr


def test_duplicate_split_names_are_refused(tmp_path, script):
    for folder in ("a", "b"):
        (tmp_path / "raw" / folder).mkdir(parents=True)
        (tmp_path / "raw" / folder / "same.jsonl").write_text('{"text": "x"}\n')
    done = preprocess(script, tmp_path / "raw", tmp_path / "o")
    assert done.returncode == 2 and "would both be split 'same'" in done.stderr


@pytest.mark.slurm
def test_runs_on_slurm(raw, tmp_path, script, slurm_cluster):
    out = tmp_path / "packed"
    done = preprocess(script, raw, out, "--packing", "bfd", "--executor", "slurm", "--wait", "--tasks", "2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "slurm run: ok" in done.stdout
    assert set(json.loads((out / "manifest.json").read_text())["splits"]) == SPLITS
    assert script(VERIFY, out).returncode == 0
    shutil.rmtree(out)
