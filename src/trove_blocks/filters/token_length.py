"""Keep documents with at least ``min_tokens`` tokens under a tokenizer, and record their token ids."""

from __future__ import annotations

from datatrove.data import Document
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from trove_blocks.tokenizers import UsesTokenizer


class TokenLengthFilter(UsesTokenizer, BaseFilter):
    """Drop documents shorter than ``min_tokens`` tokens (reason ``fewer_than_<min_tokens>_tokens``).

    Kept documents get ``metadata["tokens"]`` (the ids, no special tokens) and ``metadata["total_tokens"]``;
    dropped ones only ``total_tokens``. ``tokenizer`` is a spec for :func:`trove_blocks.tokenizers.load_tokenizer`
    (hub id, folder, tokenizer.json, ``cl100k_base``), loaded lazily in the worker (tokenizers do not pickle).
    Documents are encoded ``batch_size`` at a time (the Rust tokenizer's threads work on a batch).
    """

    name = "🔢 Token length"
    _requires_dependencies = ["tokenizers"]

    def __init__(
        self,
        tokenizer: str,
        min_tokens: int = 2000,
        exclusion_writer: DiskWriter | None = None,
        batch_size: int = 64,
    ):
        if min_tokens < 0:
            raise ValueError(f"min_tokens must be >= 0, got {min_tokens}")
        super().__init__(exclusion_writer=exclusion_writer, batch_size=batch_size)
        self.tokenizer_spec = tokenizer
        self.min_tokens = min_tokens

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        return self.filter_batch([doc])[0]

    def filter_batch(self, batch: list[Document]) -> list[bool | tuple[bool, str]]:
        encodings = self.tokenizer.encode_batch([doc.text for doc in batch], add_special_tokens=False)
        results = []
        for doc, encoding in zip(batch, encodings):
            total = len(encoding.ids)
            doc.metadata["total_tokens"] = total
            self.stat_update("tokens", value=total)
            if total < self.min_tokens:
                results.append((False, f"fewer_than_{self.min_tokens}_tokens"))
                continue
            doc.metadata["tokens"] = list(encoding.ids)
            self.stat_update("kept_tokens", value=total)
            results.append(True)
        return results
