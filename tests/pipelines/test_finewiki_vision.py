"""pipelines/finewiki_vision.py and finewiki_download.py run as a user would, on the sample FineWiki parquet."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trove_blocks.finewiki.arrow import open_arrow

SCRIPT = "pipelines/finewiki_vision.py"
SAMPLE = Path(__file__).resolve().parents[2] / "examples_local" / "data" / "finewiki"
FAST = ("--tokenizer", "cl100k_base", "--min-tokens", "1000", "--context-tokens", "300", "--continuation-tokens", "200")


def run(script, out, *extra):
    done = script(SCRIPT, "--input", SAMPLE, "--output", out, *FAST, "--modes", "tiny", "--val-size", "3", *extra)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_same_samples_and_pages_for_any_task_count_and_layout(tmp_path, script):
    files_run, parquet_run = tmp_path / "files", tmp_path / "parquet"
    done = run(script, files_run, "--tasks", "1")
    assert "samples rendered: 17" in done.stdout and "train: 14, val: 3" in done.stdout
    run(script, parquet_run, "--tasks", "2", "--layout", "parquet")

    records = [json.loads(line) for path in sorted((files_run / "samples").glob("*.jsonl")) for line in path.open()]
    pages = {r["id"]: (files_run / r["images"]["tiny"]).read_bytes() for r in records}
    table = pa.concat_tables(pq.read_table(p) for p in sorted((parquet_run / "parquet").glob("*.parquet")))
    assert dict(zip(table.column("id").to_pylist(), table.column("image_tiny").to_pylist())) == pages
    assert all(r["id"].startswith(("sample_900000001_", "sample_900000002_", "sample_900000003_")) for r in records)

    manifests = [
        json.loads((run_dir / "splits" / "split_manifest.json").read_text()) for run_dir in (files_run, parquet_run)
    ]
    assert manifests[0]["val_ids_digest"] == manifests[1]["val_ids_digest"]
    assert manifests[0]["train_ids_digest"] == manifests[1]["train_ids_digest"]

    report = json.loads((files_run / "report" / "report.json").read_text())
    assert report["samples"] == 17 and report["modes"]["tiny"]["vision_tokens"] == 73
    assert (files_run / "report" / "contact_sheet.png").stat().st_size > 0
    train = open_arrow(files_run / "arrow" / "train.arrow")
    assert train.num_rows == 14 and set(train.column("id").to_pylist()) <= set(pages)
    val = open_arrow(parquet_run / "arrow" / "val.arrow")
    assert val.num_rows == 3 and all(png in pages.values() for png in val.column("image_tiny").to_pylist())
    excluded = [json.loads(line) for line in (files_run / "excluded" / "filter" / "00000.jsonl").open()]
    assert [row["metadata"]["filter_reason"] for row in excluded] == ["fewer_than_1000_tokens"]


def test_wikis_in_subfolders_are_all_read_and_a_run_that_keeps_nothing_ends_with_its_counts(tmp_path, script):
    sample = pq.read_table(next(SAMPLE.glob("*.parquet")))
    wikis = tmp_path / "data"
    for wiki in ("enwiki", "frwiki"):
        (wikis / wiki).mkdir(parents=True)
        ids = [f"{wiki}/{page_id}" for page_id in sample.column("id").to_pylist()]
        pq.write_table(
            sample.set_column(sample.schema.get_field_index("id"), "id", pa.array(ids)), wikis / wiki / "a.parquet"
        )
    done = script(SCRIPT, "--input", wikis, "--output", tmp_path / "out", *FAST, "--modes", "tiny", "--val-size", "0")
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"articles read: {2 * sample.num_rows}," in done.stdout

    none_kept = script(
        SCRIPT, "--input", SAMPLE, "--output", tmp_path / "none", *FAST, "--min-tokens", "100000", "--val-size", "0"
    )
    assert none_kept.returncode == 0, none_kept.stderr[-3000:]
    assert f"articles read: {sample.num_rows}, kept (>= min tokens): 0, excluded (short): {sample.num_rows}," in (
        none_kept.stdout
    )
    assert "samples rendered: 0" in none_kept.stdout and "train: 0, val: 0" in none_kept.stdout
    assert (tmp_path / "none" / "report" / "report.md").read_text().startswith("0 samples, nothing to measure")


def test_contexts_the_font_cannot_draw_are_excluded_or_flagged(tmp_path, script):
    sample = pq.read_table(next(SAMPLE.glob("*.parquet")))
    chinese = "北京是中华人民共和国的首都，也是全国的政治、文化中心。杜甫是唐代著名的现实主义诗人。" * 60
    rows = {
        "text": [chinese, *sample.column("text").to_pylist()],
        "id": ["zhwiki/42", *sample.column("id").to_pylist()],
        "title": ["北京", *sample.column("title").to_pylist()],
    }
    (tmp_path / "in").mkdir()
    pq.write_table(pa.table(rows), tmp_path / "in" / "mixed.parquet")
    args = ("--input", tmp_path / "in", *FAST, "--modes", "tiny", "--val-size", "0", "--min-tokens", "200")
    excluded = script(SCRIPT, *args, "--output", tmp_path / "excluded")
    assert excluded.returncode == 0, excluded.stderr[-3000:]
    chunks = [json.loads(line) for line in (tmp_path / "excluded" / "excluded" / "render" / "00000.jsonl").open()]
    assert chunks and {chunk["metadata"]["filter_reason"] for chunk in chunks} == {"missing_glyphs"}
    assert all(chunk["id"].startswith("sample_000042_") for chunk in chunks)
    assert f"samples excluded (missing glyphs): {len(chunks)}, samples excluded (overflow): 0" in excluded.stdout
    flagged = script(SCRIPT, *args, "--output", tmp_path / "flagged", "--on-missing-glyphs", "flag")
    assert flagged.returncode == 0, flagged.stderr[-3000:]
    assert "samples excluded (missing glyphs): 0" in flagged.stdout
    assert (tmp_path / "flagged" / "images" / "tiny" / f"{chunks[0]['id']}.png").is_file()
    samples = [json.loads(line) for path in (tmp_path / "flagged" / "samples").glob("*.jsonl") for line in path.open()]
    flags = {sample["id"]: sample["missing_glyphs"] for sample in samples}
    assert {flags[chunk["id"]] for chunk in chunks} == {chunks[0]["metadata"]["missing_glyphs"]}
    assert set(chunks[0]["metadata"]["missing_glyphs"]) <= set(chinese) and "北" in flags[chunks[0]["id"]]
    assert sum(1 for flag in flags.values() if flag) == len(chunks), "the English samples have none"


def test_an_edited_tokenizer_file_runs_the_stages_afresh(tmp_path, script):
    from trove_blocks.tokenizers import tokenizer_file

    tokenizer = tmp_path / "tokenizer.json"
    tokenizer.write_bytes(tokenizer_file("cl100k_base").read_bytes())
    args = ("--input", SAMPLE, "--output", tmp_path / "out", *FAST, "--tokenizer", tokenizer, "--val-size", "0")
    assert script(SCRIPT, *args, "--modes", "tiny").returncode == 0
    again = script(SCRIPT, *args, "--modes", "tiny")
    assert again.returncode == 0 and "afresh" not in again.stderr
    tokenizer.write_text(tokenizer.read_text() + "\n")  # an edit (here one that keeps the vocabulary)
    edited = script(SCRIPT, *args, "--modes", "tiny")
    assert edited.returncode == 0, edited.stderr[-3000:]
    assert f"stage filter: inputs changed since its last run ({tokenizer})" in edited.stderr


@pytest.mark.slurm
def test_runs_on_slurm(tmp_path, script, slurm_cluster):
    done = run(script, tmp_path / "out", "--executor", "slurm", "--wait", "--tasks", "2")
    assert "samples rendered: 17" in done.stdout
    assert json.loads((tmp_path / "out" / "splits" / "split_manifest.json").read_text())["val"] == 3


def test_help_and_bad_flags(script):
    done = script(SCRIPT, "--help")
    assert done.returncode == 0 and "deepseek-ai/DeepSeek-OCR" in done.stdout and "--layout" in done.stdout
    bad = script(SCRIPT, "--modes", "tiny,huge", "--input", SAMPLE)
    assert bad.returncode == 2 and "modes" in bad.stderr
    missing = script(SCRIPT, "--input", "/nonexistent")
    assert missing.returncode == 2 and "no *.parquet" in missing.stderr
    inside = script(SCRIPT, "--input", SAMPLE, "--output", SAMPLE / "out")
    assert inside.returncode == 2 and "is inside --input" in inside.stderr


def test_an_unusable_tokenizer_is_a_usage_error_before_any_stage(tmp_path, script):
    """As preprocess_to_parquet and tutorial 03 do: the seed's default hub tokenizer, offline and not cached, is
    named with the hint, not found by the first stage's task."""
    out = tmp_path / "out"
    done = script(SCRIPT, "--input", SAMPLE, "--output", out, "--tokenizer", "no-such-org/no-such-tokenizer")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "--tokenizer: Tokenizer not found: 'no-such-org/no-such-tokenizer'" in done.stderr
    assert "--tokenizer cl100k_base" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_download_status_and_dry_run_work_offline(tmp_path, script):
    status = script("pipelines/finewiki_download.py", "--status", "--output", tmp_path)
    assert status.returncode == 0 and "no parquet files" in status.stdout
    dry = script("pipelines/finewiki_download.py", "--dry-run", "--output", tmp_path, "--lang", "fr")
    assert dry.returncode == 0 and "data/frwiki/*.parquet" in dry.stdout and "HF_HUB_OFFLINE" in dry.stdout
