"""Extraction quality against gold segments, scored the way trafilatura's own benchmark scores extractors.

Each benchmark page comes with segments a good main-text extraction must contain ("with": article text) and
must not contain ("without": navigation, ads, comments). A "with" segment found in the extracted text is a
true positive, a missing one a false negative; a "without" segment found is a false positive, a missing one a
true negative. Matching is plain substring search, so scores are comparable with trafilatura's published ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class SegmentScore:
    """Counts of gold segments (not characters) found or missed; sums over pages with ``+``."""

    true_positives: int = 0
    false_negatives: int = 0
    false_positives: int = 0
    true_negatives: int = 0

    def __add__(self, other: SegmentScore) -> SegmentScore:
        return SegmentScore(
            self.true_positives + other.true_positives,
            self.false_negatives + other.false_negatives,
            self.false_positives + other.false_positives,
            self.true_negatives + other.true_negatives,
        )

    @property
    def precision(self) -> float:
        """Share of found segments that should have been found (1.0 when nothing was found)."""
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        """Share of "with" segments that were found (1.0 when there were none)."""
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score_extraction(text: str | None, with_segments: Iterable[str], without_segments: Iterable[str]) -> SegmentScore:
    """Score one page's extracted ``text`` (None or "" when extraction produced nothing) against its gold segments."""
    text = text or ""
    with_found = [segment in text for segment in with_segments]
    without_found = [segment in text for segment in without_segments]
    return SegmentScore(
        true_positives=sum(with_found),
        false_negatives=len(with_found) - sum(with_found),
        false_positives=sum(without_found),
        true_negatives=len(without_found) - sum(without_found),
    )
