"""``stats.png`` of a SynSQL run: what a user checks first, drawn rather than listed.

Two panels from ``stats.json``: the difficulty mix of each split as a share of the split (is val like train?),
and where the records read went (train, val, each exclusion reason), whose bars add up to the records read.
"""

from __future__ import annotations

from pathlib import Path

from trove_blocks.report import BarPanel, render_bar_panels
from trove_blocks.synsql.records import DEFAULT_DIFFICULTY


def stats_panels(stats: dict) -> list[BarPanel]:
    """The two panels of ``stats`` (the dict written to ``stats.json``)."""
    difficulty_map = stats.get("settings", {}).get("difficulty_map") or DEFAULT_DIFFICULTY
    distribution = stats["difficulty_distribution"]
    order = [name for name in dict.fromkeys(difficulty_map.values()) if name in distribution]
    order += sorted(set(distribution) - set(order))
    totals = {"train": stats["train_examples"], "val": stats["val_examples"]}
    shares = {
        difficulty: {
            split: round(100 * distribution[difficulty][split] / total, 1) if total else 0.0
            for split, total in totals.items()
        }
        for difficulty in order
    }
    outcomes = {split: {"records": count} for split, count in totals.items()}
    outcomes |= {reason: {"records": count} for reason, count in stats["exclusions"].items()}
    return [
        BarPanel(
            "difficulty per split (% of the split)",
            shares,
            subtitle=f"train {totals['train']:,}, val {totals['val']:,} records (val ratio {stats['val_ratio']})",
            unit="%",
        ),
        BarPanel(
            "where the records read went",
            outcomes,
            subtitle=f"{stats['records_read']:,} read = {stats['total_examples']:,} kept "
            f"+ {stats['excluded_examples']:,} excluded",
        ),
    ]


def write_stats_picture(stats: dict, path: str | Path) -> Path:
    """Draw :func:`stats_panels` into a PNG at ``path`` (atomically)."""
    return render_bar_panels(stats_panels(stats), path, title="SynSQL preparation")
