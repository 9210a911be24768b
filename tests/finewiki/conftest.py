"""Real Wikipedia text (tests/data/wiki) and long articles generated from it, for the FineWiki vision tests."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

WIKI = Path(__file__).resolve().parents[1] / "data" / "wiki"


def wikitext_paragraphs() -> list[str]:
    text = (WIKI / "wikitext2_test_first3articles.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.split("\n") if line.strip() and not re.match(r"^ ?=", line)]


def long_article(seed: int, paragraphs: int = 40, extras: bool = True) -> str:
    """A long article: real paragraphs in a seeded order, with headings, and (``extras``) hard cases for tokenizers
    and layout: emoji and CJK (multi-byte, split across byte-level tokens), tabs, CRLF, a 300-character word."""
    rng = random.Random(seed)
    source = wikitext_paragraphs()
    parts = [f"# Generated article {seed}"]
    for index in range(paragraphs):
        if index % 7 == 0:
            parts.append(f"\n## Section {index // 7}")
        parts.append(rng.choice(source))
        if extras and index % 5 == 0:
            parts.append(
                rng.choice(["Emoji 🎉🧪 and 漢字の文章 here.", "tab\tseparated\tcells", "line\r\nbreak", "x" * 300])
            )
    return "\n".join(parts) + "\n"


@pytest.fixture(scope="session")
def real_text() -> str:
    return (WIKI / "wikitext2_test_first3articles.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def tokenizer():
    from trove_blocks.tokenizers import load_tokenizer

    return load_tokenizer("cl100k_base")


@pytest.fixture(scope="session")
def make_long_article():
    """``make_long_article(seed, paragraphs=40, extras=True)``: see :func:`long_article`."""
    return long_article
