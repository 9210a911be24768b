"""Context/continuation windows over an article's tokens, with the exact original text of each context.

An article of ``n`` tokens gives ``n // (context + continuation)`` non-overlapping windows; window ``k`` covers
tokens ``[k * W, (k + 1) * W)`` with ``W = context + continuation``: the first ``context`` tokens are shown to the
model as an image, the rest are what it must continue. The tokens of the last, incomplete window are not used
(counted as ``tail_tokens``).

``context_text`` is the original text sliced by the tokenizer's character offsets, from the start of the first
context token to the end of the last one: decoding the ids does not always give the text back (byte-level BPE
splits a character across tokens, normalisers change text). When a character is split between the last context
token and the first continuation token, the context text includes the whole character.

Sample ids follow the seed (``sample_000001_chunk_0``) and must not depend on how many tasks ran or in which
order files were read, so the sample number is derived from the article itself: the page id of a FineWiki id
``<wiki>/<page_id>`` (``enwiki/34833`` -> ``sample_034833``), else a 12-digit number from a BLAKE2b hash of the id.
Page ids are unique within one wiki: running several wikis into one output needs one output per wiki.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

_FINEWIKI_ID = re.compile(r"^[a-z][a-z0-9_-]*wiki/(\d+)$")


def sample_number(article_id: str) -> int:
    """The stable number of an article: its page id for ``<wiki>/<page_id>``, else 12 digits of a hash of the id."""
    match = _FINEWIKI_ID.match(article_id)
    if match:
        return int(match.group(1))
    digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 10**12


def sample_id(article_id: str, chunk_index: int) -> str:
    """``sample_<number:06d>_chunk_<k>`` for window ``k`` of the article ``article_id``."""
    return f"sample_{sample_number(article_id):06d}_chunk_{chunk_index}"


@dataclass(frozen=True)
class Chunk:
    """One window: its ids, token ids, and the character span of its context in the article's text."""

    id: str
    article_id: str
    chunk_index: int
    context_tokens: list[int]
    continuation_tokens: list[int]
    context_text: str
    context_start: int
    context_end: int


def chunk_article(
    article_id: str,
    text: str,
    token_ids: Sequence[int],
    offsets: Sequence[tuple[int, int]],
    context_tokens: int,
    continuation_tokens: int,
) -> list[Chunk]:
    """The full windows of ``context_tokens + continuation_tokens`` tokens of one article.

    ``offsets[i]`` is the ``(start, end)`` character span of token ``i`` in ``text`` (a ``tokenizers`` Encoding's
    ``.offsets`` with ``add_special_tokens=False``).
    """
    if context_tokens < 1 or continuation_tokens < 0:
        raise ValueError(
            f"need context_tokens >= 1 and continuation_tokens >= 0, got {context_tokens}, {continuation_tokens}"
        )
    if len(token_ids) != len(offsets):
        raise ValueError(f"{article_id}: {len(token_ids)} token ids but {len(offsets)} offsets")
    window = context_tokens + continuation_tokens
    chunks = []
    for index in range(len(token_ids) // window):
        first = index * window
        split = first + context_tokens
        start, end = offsets[first][0], offsets[split - 1][1]
        chunks.append(
            Chunk(
                id=sample_id(article_id, index),
                article_id=article_id,
                chunk_index=index,
                context_tokens=list(token_ids[first:split]),
                continuation_tokens=list(token_ids[split : first + window]),
                context_text=text[start:end],
                context_start=start,
                context_end=end,
            )
        )
    return chunks


def tail_tokens(total_tokens: int, context_tokens: int, continuation_tokens: int) -> int:
    """Tokens after the last full window: not used by any sample."""
    return total_tokens % (context_tokens + continuation_tokens)
