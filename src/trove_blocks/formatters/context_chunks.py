"""Split each article into context/continuation windows: one output document per window."""

from __future__ import annotations

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.writers.disk_base import DiskWriter

from trove_blocks.finewiki.chunks import chunk_article, tail_tokens
from trove_blocks.tokenizers import UsesTokenizer


class ContextChunker(UsesTokenizer, PipelineStep):
    """Article -> windows of ``context_tokens`` + ``continuation_tokens`` (see :mod:`trove_blocks.finewiki.chunks`).

    The article's text is encoded again for the character offsets. When the article carries ``metadata["tokens"]``
    (the filter stage's ids) they must equal the new encoding, else the article is excluded with reason
    ``tokens_differ`` (the filter ran with another tokenizer). Articles too short for one window are excluded with
    reason ``shorter_than_window``. Every input article is counted as ``articles`` = ``chunked`` + excluded.

    Each window becomes a document: text = the exact ``context_text``, id = ``sample_<n>_chunk_<k>``, metadata
    ``article_id, title, chunk_index, context_tokens, continuation_tokens, context_start, context_end`` (character
    offsets of the context in the article's text).
    """

    name = "✂️ Context chunks"
    type = "✂️ - FORMAT"
    _requires_dependencies = ["tokenizers"]

    def __init__(
        self,
        tokenizer: str,
        context_tokens: int = 1000,
        continuation_tokens: int = 1000,
        exclusion_writer: DiskWriter | None = None,
    ):
        super().__init__()
        if context_tokens < 1 or continuation_tokens < 0:
            raise ValueError(
                f"need context_tokens >= 1, continuation_tokens >= 0: {context_tokens}, {continuation_tokens}"
            )
        self.tokenizer_spec = tokenizer
        self.context_tokens = context_tokens
        self.continuation_tokens = continuation_tokens
        self.exclusion_writer = exclusion_writer

    def _exclude(self, writer, doc: Document, reason: str, rank: int) -> None:
        self.stat_update("excluded", f"excluded_{reason}")
        if writer is not None:
            doc.metadata["filter_reason"] = reason
            writer.write(doc, rank)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        writer = self.exclusion_writer
        try:
            for article in data:
                self.stat_update("articles")
                with self.track_time():
                    encoding = self.tokenizer.encode(article.text, add_special_tokens=False)
                    given = article.metadata.get("tokens")
                    if given is not None and list(given) != encoding.ids:
                        self._exclude(writer, article, "tokens_differ", rank)
                        continue
                    chunks = chunk_article(
                        article.id,
                        article.text,
                        encoding.ids,
                        encoding.offsets,
                        self.context_tokens,
                        self.continuation_tokens,
                    )
                if not chunks:
                    self._exclude(writer, article, "shorter_than_window", rank)
                    continue
                self.stat_update("chunked")
                self.stat_update(
                    "tail_tokens", value=tail_tokens(len(encoding.ids), self.context_tokens, self.continuation_tokens)
                )
                for chunk in chunks:
                    self.stat_update("chunks")
                    yield Document(
                        text=chunk.context_text,
                        id=chunk.id,
                        metadata={
                            "article_id": chunk.article_id,
                            "title": article.metadata.get("title"),
                            "chunk_index": chunk.chunk_index,
                            "context_tokens": chunk.context_tokens,
                            "continuation_tokens": chunk.continuation_tokens,
                            "context_start": chunk.context_start,
                            "context_end": chunk.context_end,
                        },
                    )
        finally:
            if writer is not None:
                writer.close()
