"""The packaged registry and its checks; --source overrides map datasets to local files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from trove_blocks.curriculum.registry import RegistryError, load_registry, parse_source_overrides

DATA = Path(__file__).resolve().parents[1] / "data" / "curriculum"


def test_packaged_registry_has_the_seed_mix():
    registry = load_registry()
    assert registry.targets == {"instruction_chat": 0.35, "code": 0.25, "math_reasoning": 0.2, "factual_qa": 0.1}
    for category in registry.targets:
        assert registry.in_category(category), f"no dataset for {category}"
    assert registry.datasets["gsm8k"].load_options() == ("openai/gsm8k", {"split": "train", "name": "main"})
    with pytest.raises(RegistryError, match="unknown category 'poetry'"):
        registry.in_category("poetry")


def test_local_overrides_name_files_or_folders_of_json(tmp_path):
    registry = load_registry()
    gsm8k = registry.datasets["gsm8k"]
    assert gsm8k.local_files(DATA / "gsm8k_test_head30.jsonl") == (DATA, "gsm8k_test_head30.jsonl")
    assert gsm8k.local_files(DATA) == (DATA, "**/*.json*")
    odd = tmp_path / "rows[1].json"
    odd.write_text("[]")
    assert gsm8k.local_files(odd) == (tmp_path, "rows[[]1].json"), "glob characters in a name are escaped"
    overrides = parse_source_overrides([f"gsm8k={DATA / 'gsm8k_test_head30.jsonl'}"], registry)
    assert overrides == {"gsm8k": DATA / "gsm8k_test_head30.jsonl"}
    with pytest.raises(RegistryError, match="no dataset 'gsm9k'"):
        parse_source_overrides([f"gsm9k={DATA}"], registry)
    with pytest.raises(RegistryError, match="does not exist"):
        parse_source_overrides(["gsm8k=/nonexistent/file.jsonl"], registry)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(RegistryError, match="not a .json or .jsonl file"):
        parse_source_overrides([f"gsm8k={tmp_path / 'notes.txt'}"], registry)
    (tmp_path / "empty").mkdir()
    with pytest.raises(RegistryError, match="no .json/.jsonl files there"):
        parse_source_overrides([f"gsm8k={tmp_path / 'empty'}"], registry)


def test_hub_files_are_fetched_through_the_hugging_face_cache(hub_cache):
    sharegpt = load_registry().datasets["sharegpt"]
    assert sharegpt.hub_files == "ShareGPT_V3_unfiltered_cleaned_split.json"
    snapshot = hub_cache(
        sharegpt.hub_id, {sharegpt.hub_files: DATA / "fastchat_dummy_conversation_sharegpt_format_20.json"}
    )
    assert sharegpt.fetch_hub_files() == (snapshot, sharegpt.hub_files)
    with pytest.raises(RegistryError, match="cannot fetch ShareGPT_V3.* nobody/absent .*pass --source sharegpt=PATH"):
        replace(sharegpt, hub_id="nobody/absent").fetch_hub_files()
    with pytest.raises(RegistryError, match="no file of hub dataset .* matches hub_files 'data/.*json'"):
        replace(sharegpt, hub_files="data/*.json").fetch_hub_files()
    settings = sharegpt.download_settings(None, -1)
    assert settings["hub_files"] == sharegpt.hub_files and "split" not in settings
    gsm8k = load_registry().datasets["gsm8k"].download_settings(None, -1)
    assert "hub_files" not in gsm8k, "downloads through datasets keep the settings they were recorded with"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("categories: {a: {target_share: 1.5}}\ndatasets: {}", "target_share must be in 0..1"),
        ("categories: {a: {target_share: 0.6}, b: {target_share: 0.6}}\ndatasets: {}", "add up to 1.20"),
        ("categories: {a: {target_share: 0.5}}\ndatasets: {x: {category: a, hub_id: h}}", "'format' is required"),
        (
            "categories: {a: {target_share: 0.5}}\ndatasets: {x: {category: b, hub_id: h, format: text}}",
            "unknown category",
        ),
        (
            "categories: {a: {target_share: 0.5}}\ndatasets: {x: {category: a, hub_id: h, format: csv}}",
            "unknown format",
        ),
        ("[1, 2", "cannot read it"),
    ],
)
def test_bad_registry_files_are_named(tmp_path, text, message):
    path = tmp_path / "registry.yaml"
    path.write_text(text)
    with pytest.raises(RegistryError, match=message) as raised:
        load_registry(path)
    assert str(path) in str(raised.value)
