"""Curriculum phases by step, category mixtures across splits, and resuming both."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from trove_blocks.loaders.curriculum import (
    SEED_CATEGORY_WEIGHTS,
    SEED_SYNSQL_PHASES,
    CurriculumLoader,
    CurriculumSchedule,
    MixtureLoader,
    Phase,
    allocate_rows,
    packed_phase_loaders,
)
from trove_blocks.loaders.packed import EmptyManifestError


def batch_splits(batch, stored) -> list[str]:
    return [stored[row.tobytes()] for row in np.asarray(batch["input_ids"])]


def test_seed_schedule_switches_at_the_configured_steps():
    schedule = CurriculumSchedule(SEED_SYNSQL_PHASES)
    assert [schedule.phase_at(step).name for step in (0, 39_999, 40_000, 74_999, 75_000, 99_999)] == [
        "Simple",
        "Simple",
        "Medium",
        "Medium",
        "Complex",
        "Complex",
    ]
    with pytest.raises(ValueError, match="step 100000 is outside the curriculum"):
        schedule.phase_at(100_000)


def test_schedule_rejects_gaps_and_a_late_start():
    with pytest.raises(ValueError, match="phase a ends at step 10 but the next phase \\(b\\) starts at 12"):
        CurriculumSchedule([Phase("a", 0, 10), Phase("b", 12, 20)])
    with pytest.raises(ValueError, match="must start at step 0"):
        CurriculumSchedule([Phase("a", 5, 10)])


def test_allocation_keeps_running_totals_within_one_row():
    weights = np.array([0.35, 0.25, 0.2, 0.1]) / 0.9
    given = np.zeros(4, dtype=np.int64)
    for _ in range(500):
        given += allocate_rows(weights, given, 3)
        assert np.abs(given - weights * given.sum()).max() < 1


def test_mixture_realizes_the_seed_weights_within_one_percent(packed_manifest, stored_rows):
    stored = stored_rows(packed_manifest)
    categories = {f"split_{i}": c for i, c in enumerate(("instruction_chat", "code", "math_reasoning", "factual_qa"))}
    loader = MixtureLoader(packed_manifest, SEED_CATEGORY_WEIGHTS, batch_size=8, seed=4)
    counts = Counter()
    batches = iter(loader)
    for _ in range(400):  # 3,200 rows: every category cycles through its rows several times
        counts.update(categories[split] for split in batch_splits(next(batches), stored))
    total = sum(counts.values())
    target = {category: weight / 90 for category, weight in SEED_CATEGORY_WEIGHTS.items()}
    assert all(abs(counts[category] / total - share) < 0.01 for category, share in target.items()), counts
    assert loader.realized_shares() == {category: counts[category] / total for category in target}


def test_mixture_batches_mix_categories(packed_manifest, stored_rows):
    stored = stored_rows(packed_manifest)
    loader = MixtureLoader(packed_manifest, {"code": 1, "factual_qa": 1}, batch_size=8, seed=0)
    batch = next(iter(loader))
    assert Counter(batch_splits(batch, stored)) == {"split_1": 4, "split_3": 4}


def test_mixture_resumes_exactly(packed_manifest):
    settings = dict(batch_size=8, seed=9, rank=0, world_size=2)
    reference = [
        np.asarray(b["input_ids"]).copy() for _, b in zip(range(40), MixtureLoader(packed_manifest, **settings))
    ]
    first = MixtureLoader(packed_manifest, **settings)
    head = [np.asarray(b["input_ids"]).copy() for _, b in zip(range(17), first)]
    resumed = MixtureLoader(packed_manifest, **settings)
    resumed.load_state_dict(json.loads(json.dumps(first.state_dict())))
    tail = [np.asarray(b["input_ids"]).copy() for _, b in zip(range(23), resumed)]
    assert all((a == b).all() for a, b in zip(head + tail, reference, strict=True))


def test_mixture_refuses_a_state_saved_with_other_settings(packed_manifest):
    saved = json.loads(json.dumps(MixtureLoader(packed_manifest, batch_size=8).state_dict()))
    with pytest.raises(ValueError, match="cannot resume: batch_size saved 8, here 16"):
        MixtureLoader(packed_manifest, batch_size=16).load_state_dict(saved)
    weights = {"instruction_chat": 1, "code": 9, "math_reasoning": 1, "factual_qa": 1}
    with pytest.raises(ValueError, match="cannot resume: weights saved"):
        MixtureLoader(packed_manifest, weights, batch_size=8).load_state_dict(saved)


def test_mixture_names_a_category_with_fewer_rows_than_ranks(tmp_path, real_token_ids, packed_builder):
    manifest = packed_builder(
        tmp_path, {"a": ("code", real_token_ids[:20]), "b": ("factual_qa", real_token_ids[20:21])}, 1024, 4, 100
    )
    with pytest.raises(EmptyManifestError, match="category factual_qa has 1 rows, fewer than the 3 ranks: rank 0"):
        MixtureLoader(manifest, {"code": 1, "factual_qa": 1}, batch_size=2, rank=0, world_size=3)


def test_mixture_names_a_category_without_data(packed_manifest):
    with pytest.raises(EmptyManifestError, match=r"category \['poetry'\].*categories present: code \(1 splits\)"):
        MixtureLoader(packed_manifest, {"code": 1, "poetry": 1}, batch_size=4)


def curriculum(manifest):
    schedule = CurriculumSchedule(
        [
            Phase("first", 0, 5, splits=("split_0",)),
            Phase("second", 5, 12, splits=("split_1", "split_2")),
            Phase("mixed", 12, 20, weights={"math_reasoning": 1, "factual_qa": 3}),
        ]
    )
    return CurriculumLoader(schedule, packed_phase_loaders(manifest, batch_size=4, seed=1))


def test_curriculum_switches_phase_data_at_the_configured_steps(packed_manifest, stored_rows):
    stored = stored_rows(packed_manifest)
    loader = curriculum(packed_manifest)
    seen = []
    for step, batch in enumerate(loader):
        seen.append((step, set(batch_splits(batch, stored))))
    assert len(seen) == 20
    assert all(splits == {"split_0"} for step, splits in seen[:5])
    assert all(splits <= {"split_1", "split_2"} for step, splits in seen[5:12])
    assert set().union(*(splits for _, splits in seen[5:12])) == {"split_1", "split_2"}
    assert all(splits <= {"split_2", "split_3"} for step, splits in seen[12:])


@pytest.mark.parametrize("stop_after", [3, 5, 12, 15])
def test_curriculum_resumes_exactly(packed_manifest, stop_after):
    reference = [np.asarray(batch["input_ids"]).copy() for batch in curriculum(packed_manifest)]
    first = curriculum(packed_manifest)
    head = [np.asarray(batch["input_ids"]).copy() for _, batch in zip(range(stop_after), first)]
    state = json.loads(json.dumps(first.state_dict()))
    resumed = curriculum(packed_manifest)
    resumed.load_state_dict(state)
    assert resumed.phase.name == curriculum(packed_manifest).schedule.phase_at(stop_after).name
    tail = [np.asarray(batch["input_ids"]).copy() for batch in resumed]
    assert all((a == b).all() for a, b in zip(head + tail, reference, strict=True))
