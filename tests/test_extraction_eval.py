import json
from pathlib import Path

import pytest

from trove_blocks.extraction_eval import SegmentScore, score_extraction

GOLD = Path(__file__).resolve().parents[1] / "examples_local" / "data" / "third_party" / "html" / "evaldata_subset.json"


def test_counts_found_and_missing_segments():
    score = score_extraction("the article body, no menu", ["article body", "missing"], ["menu", "footer"])
    assert score == SegmentScore(true_positives=1, false_negatives=1, false_positives=1, true_negatives=1)
    assert score.precision == 0.5 and score.recall == 0.5 and score.f1 == 0.5


def test_no_extraction_misses_everything_wanted():
    score = score_extraction(None, ["a", "b"], ["c"])
    assert (score.recall, score.precision, score.true_negatives) == (0.0, 1.0, 1)


def test_scores_add_over_pages():
    total = score_extraction("x", ["x"], []) + score_extraction("", ["y"], ["z"])
    assert total == SegmentScore(1, 1, 0, 1)


def test_real_gold_page_scored_against_its_own_segments():
    page = next(iter(json.loads(GOLD.read_text()).values()))
    perfect = score_extraction(" ".join(page["with"]), page["with"], page["without"])
    assert perfect.recall == pytest.approx(1.0) and perfect.precision == pytest.approx(1.0)
