"""The seed's YAML training config -> loaders, and the errors that say how to fix a config."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from trove_blocks.loaders.config import ConfigError, build_loaders, load_config
from trove_blocks.loaders.curriculum import CurriculumLoader, MixtureLoader
from trove_blocks.loaders.packed import EmptyManifestError, ManifestNotFoundError, PackedDataset, UnknownSplitError


def write_config(tmp_path, text: str):
    path = tmp_path / "train_direct.yaml"
    path.write_text(text)
    return path


def test_seed_config_with_all_splits(tmp_path, packed_manifest, stored_rows):
    folder = packed_manifest.parent
    config = write_config(
        tmp_path,
        f'train_data_path: "{folder}"\nval_data_path: "{folder}"\nuse_pretokenized_data: true\n'
        "pretokenized_splits: null\nlearning_rate: 0.0003\nbatch_size: 16\n",
    )
    loaders = build_loaders(config)
    assert isinstance(loaders.train, PackedDataset) and loaders.train.batch_size == 16
    assert loaders.train.splits == ["split_0", "split_1", "split_2", "split_3"]
    val_rows = [row.tobytes() for batch in loaders.val for row in np.asarray(batch["input_ids"])]
    assert Counter(val_rows) == Counter(list(stored_rows(packed_manifest)))


def test_seed_config_with_listed_splits_and_ranks(tmp_path, packed_manifest, stored_rows):
    stored = stored_rows(packed_manifest)
    config = write_config(
        tmp_path,
        f"train_data_path: {packed_manifest.parent}\nuse_pretokenized_data: true\n"
        'pretokenized_splits: ["split_2", "split_0"]\nbatch_size: 4\n',
    )
    ranks = [build_loaders(config, rank=rank, world_size=2) for rank in range(2)]
    assert all(loaders.val is None for loaders in ranks)
    rows = [row.tobytes() for loaders in ranks for batch in loaders.train for row in np.asarray(batch["input_ids"])]
    assert Counter(rows) == Counter(key for key, split in stored.items() if split in ("split_0", "split_2"))


def test_mixture_and_curriculum_from_config(tmp_path, packed_manifest):
    mixed = write_config(
        tmp_path, f"train_data_path: {packed_manifest.parent}\nmixture_weights: {{code: 25, factual_qa: 10}}\n"
    )
    assert isinstance(build_loaders(mixed).train, MixtureLoader)
    phased = write_config(
        tmp_path,
        f"train_data_path: {packed_manifest.parent}\ncurriculum_phases:\n"
        "  - {name: warmup, start_step: 0, end_step: 3, splits: [split_0]}\n"
        "  - {name: mix, start_step: 3, end_step: 6, weights: {code: 1, math_reasoning: 1}}\n",
    )
    train = build_loaders(phased).train
    assert isinstance(train, CurriculumLoader)
    assert len(list(train)) == 6


def test_every_phase_is_checked_when_the_loaders_are_built(tmp_path, packed_manifest):
    head = (
        f"train_data_path: {packed_manifest.parent}\n"
        "curriculum_phases:\n  - {name: warmup, start_step: 0, end_step: 3}\n"
    )
    typo = write_config(tmp_path, head + "  - {name: main, start_step: 3, splits: [split_9]}\n")
    with pytest.raises(ConfigError, match=r"train_direct.yaml: curriculum phase 'main': splits \['split_9'\] are not"):
        build_loaders(typo)
    poetry = write_config(tmp_path, head + "  - {name: main, start_step: 3, weights: {poetry: 1}}\n")
    with pytest.raises(ConfigError, match=r"phase 'main': weights name categories \['poetry'\] that none of its"):
        build_loaders(poetry)
    one = write_config(tmp_path, head.replace("end_step: 3}", "end_step: 3, splits: split_0}"))
    assert load_config(one).curriculum_phases[0].splits == ("split_0",), "one split name, not its characters"


def test_missing_manifest_names_the_config_key_and_the_command(tmp_path):
    config = write_config(tmp_path, f"train_data_path: {tmp_path / 'data/distillation_preprocessed'}\n")
    with pytest.raises(ManifestNotFoundError, match=r"train_data_path .*python pipelines/preprocess_to_parquet.py"):
        build_loaders(config)


def test_unknown_split_in_config_lists_the_available_ones(tmp_path, packed_manifest):
    config = write_config(
        tmp_path, f"train_data_path: {packed_manifest.parent}\npretokenized_splits: [openhermes, numina_cot]\n"
    )
    with pytest.raises(
        UnknownSplitError, match=r"\['openhermes', 'numina_cot'\]; available: split_0, split_1, split_2"
    ):
        build_loaders(config)


def test_empty_manifest_from_config(tmp_path, packed_manifest):
    import json

    manifest = json.loads(packed_manifest.read_text())
    for split in manifest["splits"].values():
        split["sequences"] = 0
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(EmptyManifestError, match="train_data_path .* no split has sequences > 0"):
        build_loaders(write_config(tmp_path, f"train_data_path: {tmp_path}\n"))


@pytest.mark.parametrize(
    "text, message",
    [
        ("val_data_path: x\n", "train_data_path is missing; set it to the --output folder"),
        ("train_data_path: x\nuse_pretokenized_data: false\n", "use_pretokenized_data must be true"),
        ("train_data_path: x\npretokenized_splits: []\n", "empty list; use null for all splits"),
        ("train_data_path: x\npretokenized_splits: 3\n", "must be a list of split names or null"),
        ("train_data_path: x\nbatch_size: 0\n", "batch_size must be an integer >= 1, got 0"),
        ("train_data_path: x\nseed: -1\n", "seed must be an integer >= 0, got -1"),
        (
            "train_data_path: x\nmixture_weights: {code: 1}\ncurriculum_phases: [{name: a, start_step: 0}]\n",
            "mixture_weights and curriculum_phases: with phases, each phase mixes by its own weights",
        ),
        (
            "train_data_path: x\ncurriculum_phases: [{name: a, start_step: 0, weights: {code: many}}]\n",
            r"curriculum_phases\[0\]: weights must map categories to weights >= 0",
        ),
        (
            "train_data_path: x\ncurriculum_phases: [{name: a, start_step: 0, end_step: 5}, "
            "{name: b, start_step: 6, end_step: 9}]\n",
            "phases must be contiguous",
        ),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_config_errors_name_the_fix(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write_config(tmp_path, text))


def test_max_seq_length_must_match_the_manifest(tmp_path, packed_manifest):
    config = write_config(tmp_path, f"train_data_path: {packed_manifest.parent}\nmax_seq_length: 1024\n")
    with pytest.raises(ConfigError, match="packed at 64; set max_seq_length: 64 or preprocess again"):
        build_loaders(config)
