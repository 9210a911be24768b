"""The seed's SynSQL curriculum over processed records from the real sample, packed on the fly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from trove_blocks.loaders.curriculum import CurriculumLoader, CurriculumSchedule, Phase
from trove_blocks.loaders.processed import ProcessedDataLoader
from trove_blocks.loaders.synsql_curriculum import ProcessedPhaseBatches, processed_phase_loaders, synsql_training_text
from trove_blocks.tokenizers import load_tokenizer

REPO = Path(__file__).resolve().parents[2]
SETTINGS = dict(tokenizer="cl100k_base", max_seq_length=128, batch_size=2)


@pytest.fixture(scope="module")
def processed(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("processed")
    script, sample = REPO / "pipelines" / "prepare_synsql.py", REPO / "examples_local" / "data" / "synsql"
    done = subprocess.run(
        [sys.executable, str(script), "--synsql-dir", str(sample), "--output-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def as_numpy(batch: dict) -> dict[str, np.ndarray]:
    return {key: np.asarray(value) for key, value in batch.items()}


def first_tokens(processed: Path, difficulty: str, count: int, rank: int = 0, world_size: int = 1) -> list[int]:
    """The tokens a phase (of one rank) must start with: its first records, rendered and tokenized."""
    tokenizer, ids = load_tokenizer("cl100k_base"), []
    records = list(ProcessedDataLoader(processed, "train", difficulty))
    for record in records[rank::world_size]:
        ids += tokenizer.encode(synsql_training_text(record), add_special_tokens=False).ids
        if len(ids) >= count:
            return ids[:count]
    raise AssertionError("not enough records")


def test_phases_switch_at_their_steps_and_train_on_their_difficulty(processed):
    phases = [
        Phase("Simple", 0, 3, difficulty="Simple"),
        Phase("Medium", 3, 5, difficulty="Medium"),
        Phase("Complex", 5, 8, difficulty="Complex"),
    ]
    loader = CurriculumLoader(CurriculumSchedule(phases), processed_phase_loaders(processed, **SETTINGS))
    batches = [as_numpy(batch) for batch in loader]
    assert len(batches) == 8
    for step in (0, 3, 5):  # the first batch of a phase starts with its difficulty's first records
        difficulty = CurriculumSchedule(phases).phase_at(step).difficulty
        flat = batches[step]["input_ids"].reshape(-1)
        assert flat.tolist() == first_tokens(processed, difficulty, flat.size)
    for batch in batches:
        assert batch["input_ids"].shape == (2, 128)
        assert (batch["attention_mask"] == 1).all()  # rows are full: concat packing pads only at the very end
        real = batch["labels"] != -100
        assert (batch["labels"][:, :-1][real[:, :-1]] == batch["input_ids"][:, 1:][real[:, :-1]]).all()


def test_resume_gives_exactly_the_uninterrupted_batches(processed):
    whole = ProcessedPhaseBatches(processed, "Complex", **SETTINGS)
    stream = iter(whole)
    expected = [as_numpy(next(stream)) for _ in range(12)]  # more than one epoch of the Complex records
    first = ProcessedPhaseBatches(processed, "Complex", **SETTINGS)
    stream = iter(first)
    for _ in range(5):
        next(stream)
    saved = first.state_dict()
    resumed = ProcessedPhaseBatches(processed, "Complex", **SETTINGS)
    resumed.load_state_dict(saved)
    stream = iter(resumed)
    for want in expected[5:]:
        got = as_numpy(next(stream))
        assert all(np.array_equal(got[key], want[key]) for key in want)


def test_resume_reads_on_from_the_saved_position(processed, tmp_path):
    """Everything before the saved byte position is overwritten with garbage: the resumed batches are unchanged."""
    import shutil

    data = tmp_path / "processed"
    shutil.copytree(processed, data)
    whole = iter(ProcessedPhaseBatches(data, None, **SETTINGS))
    expected = [as_numpy(next(whole)) for _ in range(8)]
    first = ProcessedPhaseBatches(data, None, **SETTINGS)
    stream = iter(first)
    for _ in range(5):
        next(stream)
    saved = json.loads(json.dumps(first.state_dict()))
    file_index, offset = saved["position"]
    assert offset > 0
    path = first.records.files[file_index]
    raw = path.read_bytes()
    path.write_bytes(bytes(b if b == 0x0A else 0x78 for b in raw[:offset]) + raw[offset:])  # "xxx" lines
    resumed = ProcessedPhaseBatches(data, None, **SETTINGS)
    resumed.load_state_dict(saved)
    stream = iter(resumed)
    for want in expected[5:]:
        got = as_numpy(next(stream))
        assert all(np.array_equal(got[key], want[key]) for key in want)


def test_resume_refuses_a_state_saved_with_other_settings(processed):
    first = ProcessedPhaseBatches(processed, "Simple", **SETTINGS, rank=0, world_size=2)
    next(iter(first))
    saved = json.loads(json.dumps(first.state_dict()))
    other = ProcessedPhaseBatches(processed, "Complex", **(SETTINGS | {"max_seq_length": 64}), rank=1, world_size=2)
    with pytest.raises(ValueError, match="cannot resume: difficulty saved 'Simple', here 'Complex'; max_seq_length"):
        other.load_state_dict(saved)
    same = ProcessedPhaseBatches(processed, "Simple", **SETTINGS, rank=0, world_size=2)
    same.load_state_dict(saved)  # the same settings resume


def test_ranks_read_disjoint_records(processed):
    tokens = {}
    for rank in (0, 1):
        source = ProcessedPhaseBatches(processed, "Simple", **SETTINGS, rank=rank, world_size=2)
        tokens[rank] = as_numpy(next(iter(source)))["input_ids"].reshape(-1)
    for rank in (0, 1):
        assert tokens[rank].tolist() == first_tokens(processed, "Simple", tokens[rank].size, rank, 2)
    assert tokens[0].tolist() != tokens[1].tolist()


def test_a_phase_without_records_is_a_clear_error(processed, tmp_path):
    with pytest.raises(
        ValueError, match="difficulty 'Impossible' is not one of this run's \\(Simple, Medium, Complex\\)"
    ):
        ProcessedPhaseBatches(processed, "Impossible", **SETTINGS)
    medium = len(ProcessedDataLoader(processed, "train", "Medium"))
    with pytest.raises(ValueError, match=f"rank {medium} of {medium + 1} has no record: .* holds {medium} train"):
        ProcessedPhaseBatches(processed, "Medium", **SETTINGS, rank=medium, world_size=medium + 1)
    # stats.json counts records that the split's files no longer hold: named at once, not an endless search
    stale = tmp_path / "stale"
    (stale / "train").mkdir(parents=True)
    (stale / "stats.json").write_bytes((processed / "stats.json").read_bytes())
    with pytest.raises(FileNotFoundError, match="no .*train/\\*.jsonl, although its stats.json counts"):
        ProcessedPhaseBatches(stale, "Simple", **SETTINGS)
