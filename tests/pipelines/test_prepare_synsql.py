"""pipelines/prepare_synsql.py on the real SynSQL + Spider-derived sample, with bad records mixed in."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from trove_blocks.loaders.processed import ProcessedDataLoader
from trove_blocks.synsql.sample import build_sample_dir

REPO = Path(__file__).resolve().parents[2]
SCRIPT = "pipelines/prepare_synsql.py"
REAL_DIR = REPO / "tests" / "data" / "text2sql"


@pytest.fixture(scope="module")
def synsql_dir(tmp_path_factory) -> Path:
    """The 63 real records (27 SynSQL, 36 Spider-derived) plus 7 broken ones, tables.json and SQLite databases."""
    root = tmp_path_factory.mktemp("synsql")
    build_sample_dir(REAL_DIR, root, with_databases=True)
    records = json.loads((root / "data.json").read_text())
    concert = next(r for r in records if r["db_id"] == "concert_singer")
    records[5:5] = [
        {k: v for k, v in concert.items() if k != "sql"},
        {**concert, "db_id": "no_such_db"},
        {**concert, "question": 123},
        {**concert, "sql_complexity": "Trivial"},
        {**concert, "sql": "SELECT nope FROM singer"},
        {**concert, "sql": "DELETE FROM singer"},
        [1, 2],
    ]
    (root / "data.json").write_text(json.dumps(records, indent=2))
    return root


def split_sets(out: Path) -> dict[str, set[str]]:
    return {
        split: {line for path in sorted((out / split).glob("*.jsonl")) for line in path.read_text().splitlines()}
        for split in ("train", "val")
    }


def run(script, synsql_dir, out, *extra):
    done = script(SCRIPT, "--synsql-dir", synsql_dir, "--output-dir", out, *extra)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_help_shows_the_seed_defaults(script):
    done = script(SCRIPT, "--help")
    assert done.returncode == 0
    for default in ("data/synsql", "data/processed", "5000000", "0.05", "--check-sql", "--schema-format"):
        assert default in done.stdout


def test_missing_data_json_gives_the_synsql_dir_hint(script, tmp_path):
    done = script(SCRIPT, "--synsql-dir", tmp_path / "nowhere", "--output-dir", tmp_path / "out")
    assert done.returncode == 2
    assert "data.json not found" in done.stderr and "--synsql-dir" in done.stderr


def test_same_output_for_1_and_4_tasks_with_exact_counts(script, synsql_dir, tmp_path):
    common = ("--check-sql", "--subset-size", "40", "--val-ratio", "0.1", "--seed", "7")
    run(script, synsql_dir, tmp_path / "one", *common, "--tasks", "1")
    done = run(script, synsql_dir, tmp_path / "four", *common, "--tasks", "4", "--workers", "1")
    assert "read: 70, kept: 40, train: 36, val: 4, excluded: 30" in done.stdout
    one, four = split_sets(tmp_path / "one"), split_sets(tmp_path / "four")
    assert one == four and len(four["train"]) == 36 and len(four["val"]) == 4
    assert len(list((tmp_path / "four" / "train").glob("*.jsonl"))) > 1  # really spread over tasks

    stats = json.loads((tmp_path / "four" / "stats.json").read_text())
    assert stats == {**json.loads((tmp_path / "one" / "stats.json").read_text())}
    assert stats["total_examples"] == 40 and stats["val_ratio"] == 0.1
    assert stats["records_read"] == 70 == stats["total_examples"] + stats["excluded_examples"]
    assert {k: v for k, v in stats["exclusions"].items() if k != "not_in_subset"} == {
        "missing_sql": 1,
        "unknown_db_id": 1,
        "wrong_type_question": 1,
        "unknown_sql_complexity": 1,
        "not_an_object": 1,
        "sql_error": 1,
        "sql_not_read_only": 1,
    }
    assert stats["exclusions"]["not_in_subset"] == 70 - 7 - 40
    distribution = stats["difficulty_distribution"]
    assert sum(d["train"] for d in distribution.values()) == 36 and sum(d["val"] for d in distribution.values()) == 4
    assert list(distribution) == ["Simple", "Medium", "Complex"]  # the curriculum's order, as in the seed

    records = [json.loads(line) for line in four["train"] | four["val"]]
    assert {r["difficulty"] for r in records} <= {"Simple", "Medium", "Complex"}
    assert all(r["schema"] and "cot" not in r for r in records)
    # one line per statement, except that a -- comment keeps the newline that ends it
    assert all("--" in line for r in records for line in r["sql"].split("\n")[:-1])
    excluded = [
        json.loads(line)
        for path in (tmp_path / "four" / "excluded").rglob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert len(excluded) == 30 and all(
        r["metadata"]["filter_reason"] if "metadata" in r else r["filter_reason"] for r in excluded
    )

    phase = ProcessedDataLoader(tmp_path / "four", "train", difficulty_filter="Simple")
    assert len(list(phase)) == len(phase) == distribution["Simple"]["train"]
    assert "picture: " in done.stdout
    assert (tmp_path / "four" / "stats.png").read_bytes() == (tmp_path / "one" / "stats.png").read_bytes()


def test_a_difficulty_without_records_is_listed_with_zeros(script, synsql_dir, tmp_path):
    """The seed's stats list every difficulty; one missing from a small subset made its phase an unknown one."""
    run(script, synsql_dir, tmp_path / "o", "--subset-size", "1", "--difficulty-map", "Moderate=Simple")
    distribution = json.loads((tmp_path / "o" / "stats.json").read_text())["difficulty_distribution"]
    assert list(distribution) == ["Simple", "Complex"]  # what the map gives, in its order; no Medium any more
    assert sorted(d["train"] + d["val"] for d in distribution.values()) == [0, 1]
    empty = next(level for level, d in distribution.items() if not d["train"] + d["val"])
    phase = ProcessedDataLoader(tmp_path / "o", "train", difficulty_filter=empty)
    assert len(phase) == 0 and list(phase) == []


def test_ddl_schema_and_cot(script, synsql_dir, tmp_path):
    run(
        script,
        synsql_dir,
        tmp_path / "o",
        "--schema-format",
        "ddl",
        "--include-cot",
        "--tasks",
        "2",
        "--val-ratio",
        "0.5",
    )
    stats = json.loads((tmp_path / "o" / "stats.json").read_text())
    assert stats["exclusions"]["missing_cot"] == 36 + 4  # Spider-derived records (and 4 broken copies) have no cot
    assert stats["total_examples"] == 27 and stats["val_examples"] == 14  # round(13.5) half up
    record = json.loads((tmp_path / "o" / "train").glob("*.jsonl").__next__().read_text().splitlines()[0])
    assert record["schema"].startswith("CREATE TABLE") and "PRIMARY KEY" in record["schema"] and record["cot"]


def test_killed_run_rerun_gives_the_same_output(script, synsql_dir, tmp_path):
    args = ("--subset-size", "50", "--tasks", "3", "--workers", "1", "--check-sql")
    run(script, synsql_dir, tmp_path / "ref", *args)
    out = tmp_path / "killed"
    command = [sys.executable, str(REPO / SCRIPT), "--synsql-dir", str(synsql_dir), "--output-dir", str(out), *args]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while not list((out / "logs" / "process" / "completions").glob("*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (out / "stats.json").exists()
    run(script, synsql_dir, out, *args)
    assert split_sets(out) == split_sets(tmp_path / "ref")
    assert json.loads((out / "stats.json").read_text()) == json.loads((tmp_path / "ref" / "stats.json").read_text())
    assert not list(out.rglob(".*.tmp-*"))


def test_a_failed_rerun_on_changed_data_leaves_no_summary_of_the_earlier_run(script, synsql_dir, tmp_path):
    data = tmp_path / "synsql"
    shutil.copytree(synsql_dir, data)
    out = tmp_path / "out"
    run(script, data, out)
    assert (out / "stats.json").is_file() and (out / "stats.png").is_file()
    text = (data / "data.json").read_bytes()
    (data / "data.json").write_bytes(text[: len(text) // 2])  # truncated: the process stage fails
    failed = script(SCRIPT, "--synsql-dir", data, "--output-dir", out)
    assert failed.returncode == 1 and "inputs changed since its last run" in failed.stderr
    assert not (out / "stats.json").exists() and not (out / "stats.png").exists()
    with pytest.raises(FileNotFoundError, match="Processed data not found"):
        ProcessedDataLoader(out, "train")
    # the same failure in a 2-worker stage: the task's error crosses processes and the run ends with it
    two = script(SCRIPT, "--synsql-dir", data, "--output-dir", tmp_path / "two", "--tasks", "2", timeout=120)
    assert two.returncode == 1 and "FAILED" in two.stdout
    assert "data.json: byte" in two.stderr and "truncated" in two.stderr


@pytest.mark.slurm
def test_on_the_local_slurm_cluster(script, slurm_cluster, synsql_dir, tmp_path):
    args = ("--subset-size", "45", "--val-ratio", "0.2", "--tasks", "2")
    run(script, synsql_dir, tmp_path / "local", *args)
    done = script(
        SCRIPT, "--synsql-dir", synsql_dir, "--output-dir", tmp_path / "slurm", *args, "--executor", "slurm", "--wait"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "kept: 45" in done.stdout
    assert split_sets(tmp_path / "slurm") == split_sets(tmp_path / "local")
