"""Compression report: ratios from text tokens and the vision tokens of each mode; contact sheet dimensions."""

from __future__ import annotations

import io

from PIL import Image

from trove_blocks.finewiki.report import aggregate, contact_sheet, markdown_table
from trove_blocks.render import render_page


def rows(tokens):
    for index, count in enumerate(tokens):
        yield {
            "id": f"s{index}",
            "characters": count * 4,
            "text_tokens": count,
            "tiny": {"font_size": 8, "overflow": index == 0, "png_bytes": 1000 + index},
            "base": {"font_size": 16, "overflow": False, "png_bytes": 3000},
        }


def test_aggregate_ratios_per_mode():
    report = aggregate(rows([1000, 730, 1460]), ("tiny", "base"))
    tiny, base = report["modes"]["tiny"], report["modes"]["base"]
    assert report["samples"] == 3 and tiny["vision_tokens"] == 73 and base["vision_tokens"] == 273
    assert tiny["compression"]["min"] == 10.0 and tiny["compression"]["max"] == 20.0
    assert abs(base["compression"]["mean"] - (1000 + 730 + 1460) / 3 / 273) < 1e-3
    assert tiny["overflow_pages"] == 1 and tiny["png_bytes_total"] == 3003
    readme = aggregate(rows([1000]), ("tiny",), "readme")
    assert readme["modes"]["tiny"]["vision_tokens"] == 64
    table = markdown_table(report)
    assert "| tiny | 512x512 | 73 |" in table and "| base | 1024x1024 | 273 |" in table


def test_contact_sheet_has_a_cell_per_sample_and_mode():
    page = render_page("Contact sheet test\nsecond line", "tiny").png
    sheet = Image.open(io.BytesIO(contact_sheet([("a", {"tiny": page}), ("b", {"tiny": page})], ("tiny",), thumb=100)))
    assert sheet.mode == "L" and sheet.width == 8 + 108 and sheet.height == 8 + 2 * (100 + 14 + 8)


def test_aggregate_memory_does_not_grow_with_the_number_of_samples():
    import tracemalloc

    peaks = []
    for count in (10_000, 40_000):
        tracemalloc.start()
        report = aggregate(rows(range(1, count + 1)), ("tiny", "base"))
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert report["samples"] == count and report["text_tokens"]["max"] == count
    assert peaks[1] < 1.5 * peaks[0], peaks
