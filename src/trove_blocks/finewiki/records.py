"""Record formats of the FineWiki pipeline, as plain functions (datatrove reader/writer adapters call them).

- FineWiki parquet row (14 columns, see ``finewiki_article``) -> document ``{text, id, metadata: {title}}``.
- filtered article, the seed's format: ``{id, title, text, tokens, total_tokens}``.
- sample, the seed's format plus statistics: ``{id, context_tokens, continuation_tokens, context_text, images}``
  and ``article_id, title, chunk_index, characters, text_tokens, missing_glyphs, vision_tokens{mode},
  compression{mode}, render{mode: {font_size, lines, total_lines, overflow, png_bytes}}``; ``missing_glyphs``: the
  context's characters the font has no glyph for ("" for none; kept only with ``--on-missing-glyphs flag``).
"""

from __future__ import annotations

from trove_blocks.finewiki.paths import image_relpath
from trove_blocks.render import vision_tokens


def finewiki_article(reader, data: dict, path: str, id_in_file: int | str) -> dict:
    """ParquetReader adapter: a FineWiki row -> ``{text, id, metadata: {title}}`` (text "" when the row has none);
    the other 11 columns are dropped. A row without an id is an error naming file and row: samples, pages and
    splits are all keyed by it."""
    if data["id"] is None:
        raise ValueError(f"{path}: row {id_in_file} has no id (null); every FineWiki article needs one")
    return {"text": data["text"] or "", "id": str(data["id"]), "metadata": {"title": data.get("title")}}


def filtered_article(reader, data: dict, path: str, id_in_file: int | str) -> dict:
    """JsonlReader adapter: a filtered article (seed format) -> ``{text, id, metadata: {title, tokens, ...}}``."""
    return {
        "text": data["text"],
        "id": data["id"],
        "metadata": {"title": data.get("title"), "tokens": data["tokens"], "total_tokens": data["total_tokens"]},
    }


def filtered_article_record(writer, document) -> dict:
    """JsonlWriter adapter: a kept article in the seed's format ``{id, title, text, tokens, total_tokens}``."""
    return {
        "id": document.id,
        "title": document.metadata.get("title"),
        "text": document.text,
        "tokens": document.metadata["tokens"],
        "total_tokens": document.metadata["total_tokens"],
    }


def excluded_record(writer, document) -> dict:
    """JsonlWriter adapter for excluded documents: no token lists or image bytes, just what says why."""
    drop = {"tokens", "context_tokens", "continuation_tokens"}
    return {
        "id": document.id,
        "text": document.text,
        "metadata": {key: value for key, value in document.metadata.items() if key not in drop},
    }


def sample_record(document, modes, vision_token_count: str = "code", with_image_paths: bool = True) -> dict:
    """The sample record of a rendered chunk document (see the module docstring); images as relative paths."""
    meta = document.metadata
    text_tokens = len(meta["context_tokens"])
    vision = {mode: vision_tokens(mode, vision_token_count) for mode in modes}
    record = {
        "id": document.id,
        "context_tokens": meta["context_tokens"],
        "continuation_tokens": meta["continuation_tokens"],
        "context_text": document.text,
    }
    if with_image_paths:
        record["images"] = {mode: image_relpath(mode, document.id) for mode in modes}
    record.update(
        article_id=meta["article_id"],
        title=meta.get("title"),
        chunk_index=meta["chunk_index"],
        characters=len(document.text),
        text_tokens=text_tokens,
        missing_glyphs=meta.get("missing_glyphs", ""),
        vision_tokens=vision,
        compression={mode: round(text_tokens / vision[mode], 4) for mode in modes},
        render={mode: meta["render"][mode] for mode in modes},
    )
    return record
