"""Rendering: vision-token numbers, measured wrapping, font fitting, overflow, grayscale PNG, determinism."""

from __future__ import annotations

import io
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from trove_blocks.render import (
    MODES,
    PageStyle,
    _font,
    font_characters,
    font_path,
    layout_page,
    missing_characters,
    normalise_text,
    render_page,
    vision_tokens,
    wrap,
)

WIKI = Path(__file__).resolve().parent / "data" / "wiki" / "wikitext2_test_first3articles.txt"


@pytest.fixture(scope="module")
def context() -> str:
    """About 1000 cl100k tokens of real Wikipedia text."""
    return WIKI.read_text(encoding="utf-8")[:4300]


def test_vision_tokens_code_and_readme_numbers():
    assert [vision_tokens(mode) for mode in MODES] == [73, 111, 273, 421]
    assert [vision_tokens(mode, "readme") for mode in MODES] == [64, 100, 256, 400]
    with pytest.raises(ValueError, match="unknown mode"):
        vision_tokens("huge")


def test_font_ships_with_the_package_and_its_licence():
    assert font_path().is_file()
    assert (font_path().parent / "LICENSE_DEJAVU").is_file()


def test_the_fonts_characters_are_those_freetype_draws_without_the_empty_box():
    """The cmap read by font_characters against FreeType itself: every character it lists is drawn as a glyph of its
    own, every other letter, digit, symbol or punctuation mark as the empty box."""
    from PIL import ImageFont

    font = ImageFont.truetype(str(font_path()), 20)
    box = bytes(font.getmask("\uffff"))
    characters = font_characters(str(font_path()))
    assert len(characters) > 3000 and {"A", "é", "Ж", "λ", "—", "\u0301"} <= characters and "東" not in characters
    drawable = [chr(code) for code in range(0x20, 0x3100) if chr(code).isprintable() and not chr(code).isspace()]
    for char in drawable:
        if unicodedata.category(char)[0] != "M" and not unicodedata.decomposition(char):  # marks: drawn on a base
            assert (bytes(font.getmask(char)) == box) == (char not in characters), hex(ord(char))


def test_missing_characters_are_those_a_page_shows_as_boxes():
    assert missing_characters("Tokyo (東京) is a café — naïve\n\t") == "京東"
    assert missing_characters("Ǻ") == "", "drawn as Å and an acute accent, both in the font"
    assert missing_characters("plain text") == ""


def test_wrap_keeps_newlines_and_measured_width(context):
    font = _font(str(font_path()), 14)
    width = 300
    text = normalise_text(context)
    lines = wrap(text, font, width)
    assert all(font.width(line.rstrip()) <= width for line in lines)
    # every source newline starts a line: the words of each paragraph come back in order
    rejoined = [word for line in lines for word in line.split()]
    assert rejoined == text.split()
    assert len(lines) >= text.count("\n") + 1


def test_a_word_wider_than_the_line_is_broken_not_lost():
    font = _font(str(font_path()), 12)
    lines = wrap("short " + "y" * 200 + " end", font, 200)
    assert "".join(lines).replace(" ", "") == "short" + "y" * 200 + "end"
    assert all(font.width(line.rstrip()) <= 200 for line in lines)


def test_fitted_font_grows_with_the_page_and_everything_fits(context):
    layouts = {mode: layout_page(context, side) for mode, side in MODES.items()}
    sizes = [layouts[mode].font_size for mode in MODES]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    for layout in layouts.values():
        assert not layout.overflow and len(layout.lines) == layout.total_lines
        inner = layout.side - 2 * layout.margin_px
        assert (len(layout.lines) - 1) * layout.line_height + layout.font_size <= inner
        # one size larger would not fit (the fit is the largest size), unless capped by max_font_size
        bigger = layout_page(context, layout.side, PageStyle(min_font_size=layout.font_size + 1))
        assert bigger.overflow


def test_overflow_is_flagged_never_silent(context):
    layout = layout_page(context * 3, 512, PageStyle(min_font_size=12))
    assert layout.overflow
    assert 0 < len(layout.lines) < layout.total_lines


def test_page_is_grayscale_of_the_mode_size(context):
    page = render_page(context, "tiny")
    image = Image.open(io.BytesIO(page.png))
    assert image.size == (512, 512) and image.mode == "L"
    assert set(image.tobytes()) <= {0, 85, 170, 255}  # 2-bit grey, stored exactly
    eight_bit = Image.open(io.BytesIO(render_page(context, "tiny", PageStyle(gray_bits=8)).png))
    assert len(set(eight_bit.tobytes())) > 4


def test_same_bytes_twice_and_in_another_process(context):
    first = render_page(context, "tiny").png
    assert render_page(context, "tiny").png == first
    code = (
        "import sys, hashlib; from trove_blocks.render import render_page; "
        "sys.stdout.write(hashlib.sha256(render_page(sys.stdin.read(), 'tiny').png).hexdigest())"
    )
    done = subprocess.run([sys.executable, "-c", code], input=context, capture_output=True, text=True, check=True)
    import hashlib

    assert done.stdout == hashlib.sha256(first).hexdigest()


def test_width_cache_stays_bounded_and_widths_stay_exact(monkeypatch, context):
    """A task meets millions of distinct word forms: the cache starts afresh when full, the layout is the same."""
    from trove_blocks import render

    words = [f"{word}{index}" for index, word in enumerate(context.split())]  # all distinct
    expected = render.layout_page(" ".join(words), 640)
    monkeypatch.setattr(render, "WIDTH_CACHE_ENTRIES", 64)
    render._font.cache_clear()
    assert render.layout_page(" ".join(words), 640) == expected
    fonts = [render._font(str(font_path()), size) for size in range(6, 65)]
    assert max(len(font._widths) for font in fonts) <= 64
    font = render._font(str(font_path()), 14)
    assert [font.width(word) for word in words] == [font.font.getlength(word) for word in words]
    render._font.cache_clear()  # no font with the small cache outlives the test
