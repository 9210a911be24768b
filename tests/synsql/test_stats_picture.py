"""stats.png of a SynSQL run: the panels add up to the numbers of stats.json."""

from __future__ import annotations

from PIL import Image

from trove_blocks.report import PANEL_HEIGHT, PANEL_WIDTH
from trove_blocks.synsql.stats_picture import stats_panels, write_stats_picture

STATS = {
    "total_examples": 40,
    "train_examples": 36,
    "val_examples": 4,
    "val_ratio": 0.1,
    "difficulty_distribution": {
        "Complex": {"train": 15, "val": 1},
        "Easy": {"train": 0, "val": 1},
        "Simple": {"train": 12, "val": 2},
        "Medium": {"train": 9, "val": 0},
    },
    "records_read": 70,
    "excluded_examples": 30,
    "exclusions": {"not_in_subset": 23, "sql_error": 4, "unknown_db_id": 3},
    "settings": {"difficulty_map": {"Simple": "Simple", "Moderate": "Medium", "Complex": "Complex"}},
}


def test_panels_follow_the_difficulty_map_and_add_up():
    shares, outcomes = stats_panels(STATS)
    assert list(shares.bars) == ["Simple", "Medium", "Complex", "Easy"]  # the map's order, then the rest
    assert shares.bars["Simple"] == {"train": 33.3, "val": 50.0}
    assert abs(sum(v["train"] for v in shares.bars.values()) - 100) < 0.2
    assert sum(v["val"] for v in shares.bars.values()) == 100
    assert list(outcomes.bars) == ["train", "val", "not_in_subset", "sql_error", "unknown_db_id"]
    assert sum(v["records"] for v in outcomes.bars.values()) == STATS["records_read"]
    assert "70 read = 40 kept + 30 excluded" in outcomes.subtitle


def test_picture_is_written_atomically_with_two_panels(tmp_path):
    path = write_stats_picture(STATS, tmp_path / "stats.png")
    with Image.open(path) as image:
        assert image.size == (2 * PANEL_WIDTH, 40 + PANEL_HEIGHT)
        assert len(image.convert("RGB").getcolors(1 << 16)) > 10  # drawn, not blank
    assert [p.name for p in tmp_path.iterdir()] == ["stats.png"]
