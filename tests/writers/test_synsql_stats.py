"""SynsqlStatsWriter and merge_tallies (trove_blocks.writers.synsql_stats): stats.json and stats.png from a plan
over the real SynSQL sample records and the per-task tallies its writers leave, and the refusal of a partial run."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from datatrove.data import Document

from trove_blocks.splits import plan_selection, split_key, subset_key
from trove_blocks.synsql.records import DEFAULT_DIFFICULTY
from trove_blocks.synsql.sample import sample_records
from trove_blocks.writers.atomic_jsonl import AtomicJsonlWriter
from trove_blocks.writers.selection import PLAN_FILE
from trove_blocks.writers.synsql_stats import SynsqlStatsWriter, merge_tallies

REAL_DIR = Path(__file__).resolve().parents[1] / "data" / "text2sql"
SEED, SUBSET, VAL_RATIO = 7, 40, 0.2
#: the default map plus a level no record reaches: it must still be listed, with zeros
DIFFICULTY_MAP = {**DEFAULT_DIFFICULTY, "Legendary": "Expert"}
INVALID = {"unknown_db_id": 2, "missing_sql": 1}


def tally(folder: Path, rank: int, docs: list[Document], keys: tuple[str, ...]) -> None:
    """Write ``docs`` as a task of the pipeline does, leaving its ``<rank>.json`` tally in ``folder``."""
    with AtomicJsonlWriter(str(folder.parent / "lines" / folder.name), tally_keys=keys, tally_folder=str(folder)) as w:
        for doc in docs:
            w.write(doc, rank)


@pytest.fixture
def run(tmp_path):
    """A work dir as the SynSQL pipeline leaves it: plan/plan.json, counts/written (two tasks), counts/invalid and
    counts/not_in_subset; returns ``(work dir, expected difficulty distribution, records read)``."""
    records = sample_records(REAL_DIR)
    ids = [f"data.json/{i}" for i in range(len(records))]
    plan = plan_selection(lambda: [(subset_key(i, SEED), split_key(i, SEED), i) for i in ids], SUBSET, VAL_RATIO)
    work = tmp_path / "work"
    (work / "plan").mkdir(parents=True)
    (work / PLAN_FILE).write_text(json.dumps(plan.to_json()))
    written, dropped = [], []
    for record_id, record in zip(ids, records):
        split = plan.split_of(subset_key(record_id, SEED), split_key(record_id, SEED), record_id)
        metadata = {"split": split, "difficulty": DIFFICULTY_MAP[record["sql_complexity"]]}
        if split is None:
            metadata["filter_reason"] = "not_in_subset"
        (written if split else dropped).append(Document(record["question"], record_id, metadata=metadata))
    half = len(written) // 2
    tally(work / "counts" / "written", 0, written[:half], ("split", "difficulty"))
    tally(work / "counts" / "written", 1, written[half:], ("split", "difficulty"))
    tally(work / "counts" / "not_in_subset", 0, dropped, ("filter_reason",))
    invalid = [
        Document("q", f"bad/{reason}/{n}", metadata={"filter_reason": reason})
        for reason, count in INVALID.items()
        for n in range(count)
    ]
    tally(work / "counts" / "invalid", 0, invalid, ("filter_reason",))
    distribution = {level: {"train": 0, "val": 0} for level in ("Simple", "Medium", "Complex", "Expert")}
    for doc in written:
        distribution[doc.metadata["difficulty"]][doc.metadata["split"]] += 1
    return work, plan, distribution, len(records) + sum(INVALID.values())


def test_stats_json_holds_the_plan_the_tallies_and_the_settings(run, tmp_path):
    work, plan, distribution, read = run
    settings = {"seed": SEED, "subset_size": SUBSET, "difficulty_map": DIFFICULTY_MAP}
    step = SynsqlStatsWriter(str(tmp_path / "out"), str(work), VAL_RATIO, settings)
    assert list(step.run(None)) == []
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert 0 < plan.val < plan.kept == SUBSET < plan.total
    assert stats["total_examples"] == plan.kept == stats["train_examples"] + stats["val_examples"]
    assert stats["val_examples"] == plan.val and stats["val_ratio"] == VAL_RATIO
    assert stats["difficulty_distribution"] == distribution
    assert list(stats["difficulty_distribution"]) == ["Simple", "Medium", "Complex", "Expert"]  # the map's order
    assert stats["records_read"] == read
    not_in_subset = plan.total - plan.kept
    assert stats["exclusions"] == dict(sorted({**INVALID, "not_in_subset": not_in_subset}.items()))
    assert stats["excluded_examples"] == sum(INVALID.values()) + not_in_subset
    assert stats["records_read"] == stats["total_examples"] + stats["excluded_examples"]
    assert stats["settings"] == settings
    assert (tmp_path / "out" / "stats.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert step.stats["kept"].total == plan.kept


def test_a_missing_task_tally_is_refused_as_a_partial_run(run, tmp_path):
    work, plan, _, _ = run
    (work / "counts" / "written" / "00001.json").unlink()
    with pytest.raises(RuntimeError, match=rf"disagree with the plan \(kept {plan.kept}, val {plan.val}\)"):
        list(SynsqlStatsWriter(str(tmp_path / "out"), str(work), VAL_RATIO).run(None))
    assert not (tmp_path / "out" / "stats.json").exists()


def test_documents_given_to_the_step_pass_through(run, tmp_path):
    work, _, _, _ = run
    docs = [Document("a", "1"), Document("b", "2")]
    assert list(SynsqlStatsWriter(str(tmp_path / "out"), str(work), VAL_RATIO).run(iter(docs))) == docs


def test_merge_tallies_sums_every_task_and_an_absent_folder_is_empty(run, tmp_path):
    work, plan, distribution, _ = run
    merged = merge_tallies(work / "counts" / "written")
    expected = Counter({f"{s}/{d}": n for d, splits in distribution.items() for s, n in splits.items() if n})
    assert merged == expected and sum(merged.values()) == plan.kept
    assert merge_tallies(tmp_path / "nothing_here") == Counter()
