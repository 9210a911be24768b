import json

import pytest

from trove_blocks.loaders.processed import ProcessedDataLoader


def test_missing_data_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Processed data not found(.|\n)*python pipelines/prepare_synsql.py"):
        ProcessedDataLoader(tmp_path, "train")


def test_curriculum_phases_filter_by_difficulty(tmp_path):
    (tmp_path / "train").mkdir()
    rows = [{"question": str(i), "difficulty": d} for i, d in enumerate(["Simple", "Medium", "Simple", "Complex"])]
    (tmp_path / "train" / "00000.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    stats = {"train_examples": 4, "difficulty_distribution": {"Simple": {"train": 2, "val": 0}}}
    (tmp_path / "stats.json").write_text(json.dumps(stats))
    simple = ProcessedDataLoader(tmp_path, "train", difficulty_filter="Simple")
    assert [r["question"] for r in simple] == ["0", "2"] and len(simple) == 2
    assert len(list(ProcessedDataLoader(tmp_path, "train"))) == len(ProcessedDataLoader(tmp_path, "train")) == 4
    with pytest.raises(ValueError, match="split"):
        ProcessedDataLoader(tmp_path, "test")
    with pytest.raises(ValueError, match="difficulty 'Hard' is not one of this run's \\(Simple\\)"):
        ProcessedDataLoader(tmp_path, "train", difficulty_filter="Hard")


def test_files_and_stats_that_disagree_are_named(tmp_path):
    (tmp_path / "val").mkdir()
    (tmp_path / "stats.json").write_text(json.dumps({"train_examples": 0, "val_examples": 3}))
    with pytest.raises(FileNotFoundError, match="no .*val/\\*.jsonl, although its stats.json counts 3 val records"):
        ProcessedDataLoader(tmp_path, "val")
    assert list(ProcessedDataLoader(tmp_path, "train")) == [], "a split the run left empty is no error"
    (tmp_path / "stats.json").unlink()
    (tmp_path / "val" / "00000.jsonl").write_text("{}\n")
    with pytest.raises(FileNotFoundError, match="Processed data not found in .*: no stats.json(.|\n)*prepare_synsql"):
        ProcessedDataLoader(tmp_path, "val")
