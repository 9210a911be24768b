"""CurriculumTagger: category from the fixed value, the document, its folder, or its source dataset."""

from __future__ import annotations

from datatrove.data import Document

from trove_blocks.taggers.curriculum import UNCATEGORIZED, CurriculumTagger


def tag(tagger, **metadata):
    return next(tagger.run(iter([Document(text="t", id="1", metadata=dict(metadata))]))).metadata["category"]


def test_category_sources_in_order():
    tagger = CurriculumTagger()
    assert tag(tagger, category="code", file_path="/x/math_reasoning/a.jsonl") == "code"
    assert tag(tagger, file_path="/data/distillation/math_reasoning/mine.jsonl") == "math_reasoning"
    assert tag(tagger, file_path="/data/other/mine.jsonl", source="squad") == "factual_qa"
    assert tag(tagger, file_path="/data/other/mine.jsonl", source="my_own") == UNCATEGORIZED
    assert tag(CurriculumTagger(category="code"), category="factual_qa") == "code"


def test_text_is_untouched_and_counts_per_category():
    tagger = CurriculumTagger()
    docs = [Document(text=f"text {i}", id=str(i), metadata={"source": "gsm8k"}) for i in range(3)]
    out = list(tagger.run(iter(docs)))
    assert [doc.text for doc in out] == ["text 0", "text 1", "text 2"]
    assert tagger.stats["category_math_reasoning"].total == 3
