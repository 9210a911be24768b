"""pipelines/download_curriculum.py offline: --source maps registry datasets to the real samples in tests/data."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "curriculum"
SCRIPT = "pipelines/download_curriculum.py"
SOURCES = {
    "gsm8k": ("math_reasoning", DATA / "gsm8k_test_head30.jsonl", 30),
    "natural_questions": ("factual_qa", DATA / "nq_open_dev_head30.jsonl", 30),
    "squad": ("factual_qa", DATA / "squad_v2_dev_sample.json", 2),
    "triviaqa": ("factual_qa", DATA / "triviaqa_sample.json", 1),
    "sharegpt": ("instruction_chat", DATA / "fastchat_dummy_conversation_sharegpt_format_20.json", 20),
}


def download(out: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the downloader on the real samples (module-scoped fixtures cannot use the function-scoped ``script``)."""
    command = [sys.executable, str(REPO / SCRIPT), "--output", str(out), "--only-sources", *source_args(), *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def source_args(sources=SOURCES):
    return [arg for name, (_, path, _) in sources.items() for arg in ("--source", f"{name}={path}")]


@pytest.fixture(scope="module")
def downloaded(tmp_path_factory):
    out = tmp_path_factory.mktemp("download") / "distillation"
    done = download(out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def test_every_source_becomes_raw_jsonl_with_stats(downloaded):
    out, done = downloaded
    assert "documents: 83, excluded: 0" in done.stdout
    for name, (category, _, rows) in SOURCES.items():
        lines = (out / category / f"{name}.jsonl").read_text().splitlines()
        assert len(lines) == rows
        record = json.loads(lines[0])
        assert set(record) == {"text", "id", "source", "category", "metadata"}
        assert record["source"] == name and record["category"] == category and record["text"]
        stats = json.loads((out / category / f"{name}.stats.json").read_text())
        assert stats["documents"] == rows and stats["rows_read"] == rows and stats["excluded"] == 0
        assert stats["bytes"] == (out / category / f"{name}.jsonl").stat().st_size


def test_present_datasets_are_skipped_and_a_damaged_one_is_planned_again(downloaded, script):
    out, _ = downloaded
    again = script(SCRIPT, "--output", out, "--only-sources", *source_args())
    assert again.returncode == 0
    assert again.stdout.count("skip     ") == len(SOURCES) and "nothing to download" in again.stdout
    jsonl = out / "factual_qa" / "triviaqa.jsonl"
    before = jsonl.read_bytes()
    jsonl.write_bytes(before + b"\n")
    try:
        plan = script(
            SCRIPT, "--output", out, "--only-sources", "--dry-run", "--category", "factual_qa", *source_args()
        )
        assert plan.returncode == 0
        assert "download factual_qa/triviaqa from local" in plan.stdout and "size differs" in plan.stdout
        assert "dry run: nothing downloaded" in plan.stdout
        assert "gsm8k" not in plan.stdout, "--category limits the plan"
        assert jsonl.read_bytes() == before + b"\n"
        fixed = script(SCRIPT, "--output", out, "--only-sources", "--dataset", "triviaqa", *source_args())
        assert fixed.returncode == 0 and "documents: 1," in fixed.stdout, "a damaged file is downloaded again"
        assert jsonl.read_bytes() == before
    finally:
        jsonl.write_bytes(before)


def test_status_only_reports_categories_against_targets(downloaded, script):
    out, _ = downloaded
    status = script(SCRIPT, "--output", out, "--status-only")
    assert status.returncode == 0
    assert "openhermes" in status.stdout and "not downloaded" in status.stdout
    gsm8k = next(line for line in status.stdout.splitlines() if " gsm8k " in line)
    assert "present" in gsm8k and " 30 " in gsm8k
    assert any(line.startswith("code") and line.rstrip().endswith("25%") for line in status.stdout.splitlines())


def test_a_download_made_with_other_settings_is_not_served_again(tmp_path, script):
    """Another row limit, or a changed local file, downloads again; the same settings skip."""
    rows = tmp_path / "gsm8k.jsonl"
    shutil.copy(DATA / "gsm8k_test_head30.jsonl", rows)
    out = tmp_path / "out"

    def run(*args: str) -> str:
        done = script(SCRIPT, "--output", out, "--only-sources", "--source", f"gsm8k={rows}", *args)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def documents() -> int:
        return json.loads((out / "math_reasoning" / "gsm8k.stats.json").read_text())["documents"]

    assert "documents: 5," in run("--max-samples", "5") and documents() == 5
    assert "(settings changed: limit)" in run() and documents() == 30
    assert "skip     math_reasoning/gsm8k: present" in run()
    rows.write_text("".join(rows.read_text().splitlines(keepends=True)[:12]))
    assert "(settings changed: files)" in run() and documents() == 12
    assert "(settings changed: limit)" in run("--max-samples", "3") and documents() == 3


def test_rows_an_adapter_refuses_are_excluded_with_their_reason(tmp_path, script):
    chats = tmp_path / "chats.json"
    chats.write_text(
        json.dumps(
            [
                {"id": "ok", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]},
                {"id": "empty", "conversations": []},
            ]
        )
    )
    out = tmp_path / "out"
    done = script(SCRIPT, "--output", out, "--only-sources", "--source", f"sharegpt={chats}")
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads((out / "instruction_chat" / "sharegpt.stats.json").read_text())
    assert (stats["rows_read"], stats["documents"], stats["excluded"]) == (2, 1, 1)
    assert stats["excluded_reasons"] == {"empty_conversation": 1}
    excluded = json.loads((out / "instruction_chat" / "sharegpt.excluded.jsonl").read_text())
    assert excluded["metadata"]["filter_reason"] == "empty_conversation"


def test_hub_files_are_streamed_from_the_hugging_face_cache(downloaded, hub_cache, tmp_path, monkeypatch, script):
    """ShareGPT names its hub file: fetched through huggingface_hub (offline: the cache) and read like --source."""
    sample = SOURCES["sharegpt"][1]
    hub_cache(
        "anon8231489123/ShareGPT_Vicuna_unfiltered",
        {"ShareGPT_V3_unfiltered_cleaned_split.json": sample, "HTML_cleaned_raw_dataset/sg_90k_part1.json": sample},
    )
    out = tmp_path / "out"
    done = script(SCRIPT, "--output", out, "--dataset", "sharegpt")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "from hub anon8231489123/ShareGPT_Vicuna_unfiltered (ShareGPT_V3_unfiltered_cleaned_split.json)" in (
        done.stdout
    )
    assert "documents: 20, excluded: 0" in done.stdout, "only the named file is read"
    rows = [json.loads(line) for line in (out / "instruction_chat" / "sharegpt.jsonl").read_text().splitlines()]
    local, _ = downloaded
    same = [json.loads(line) for line in (local / "instruction_chat" / "sharegpt.jsonl").read_text().splitlines()]
    assert [row["text"] for row in rows] == [row["text"] for row in same]
    assert rows[0]["metadata"]["record"] == "sharegpt/ShareGPT_V3_unfiltered_cleaned_split.json[0]"
    stats = json.loads((out / "instruction_chat" / "sharegpt.stats.json").read_text())
    assert stats["settings"]["hub_files"] == "ShareGPT_V3_unfiltered_cleaned_split.json"
    again = script(SCRIPT, "--output", out, "--dataset", "sharegpt")
    assert "skip     instruction_chat/sharegpt: present" in again.stdout

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty"))
    missing = script(SCRIPT, "--output", tmp_path / "out2", "--dataset", "sharegpt")
    assert missing.returncode == 1
    assert "cannot fetch ShareGPT_V3_unfiltered_cleaned_split.json of hub dataset" in missing.stderr
    assert "pass --source sharegpt=PATH" in missing.stderr
    assert not (tmp_path / "out2" / "instruction_chat").exists()


def test_bad_source_flags_are_named(tmp_path, script):
    done = script(SCRIPT, "--output", tmp_path, "--source", f"gsm9k={DATA}")
    assert done.returncode == 2 and "no dataset 'gsm9k'" in done.stderr
    done = script(SCRIPT, "--output", tmp_path, "--category", "poetry")
    assert done.returncode == 2 and "unknown category 'poetry'" in done.stderr
