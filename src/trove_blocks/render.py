"""Text -> page layout -> grayscale PNG, and the vision-token arithmetic of DeepSeek-OCR's resolution modes.

A page is a square grayscale image (``MODES``: tiny 512, small 640, base 1024, large 1280 pixels a side) with black
text on white inside a margin, stored as a grey PNG of ``gray_bits`` (default 2: four greys). The font is DejaVu
Sans Mono, shipped in ``trove_blocks/fonts`` (with its licence), so no system font is involved: the same text gives
the same PNG bytes on any machine with the same Pillow/FreeType/zlib (PNG chunks carry no time stamp).

Layout: the text is wrapped by measured glyph advances (never by a character count), breaking after spaces and
inside words only when one word is wider than the line; every newline of the text starts a new line; tabs become 4
spaces and ``\\r\\n`` / ``\\r`` become ``\\n`` (the page shows the text, the sample keeps the exact original). The
font size is the largest in ``[min_font_size, max_font_size]`` at which all lines fit the page (found by stepping
from an estimate from the character count: the line count only grows as the size grows). When the text does not fit
even at ``min_font_size`` the page holds the first lines that fit and the layout says so (``overflow``,
``total_lines``): callers flag the sample or drop it with a reason, never a silent cut.

Vision tokens per mode (:func:`vision_tokens`): DeepSeek-OCR's encoder turns a ``s x s`` page into ``(s / 64) ** 2``
tokens (16x16 patches, then a 16x token compressor). Its README quotes those: 64 / 100 / 256 / 400. Its code
(``DeepseekOCRForCausalLM``, the ``crop_mode=False`` path) also feeds one newline token per row of the token grid
and one view separator: ``n * (n + 1) + 1`` with ``n = s / 64``, i.e. 73 / 111 / 273 / 421. Those are the tokens the
language model actually reads, and the numbers of the seed's table, so they are the default here (``count="code"``);
``count="readme"`` gives the README's.
"""

from __future__ import annotations

import io
import re
import struct
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

#: page side in pixels per DeepSeek-OCR resolution mode
MODES: dict[str, int] = {"tiny": 512, "small": 640, "base": 1024, "large": 1280}

#: pixels of the page side that make one vision token side (16 px patches, 4x4 of them merged by the compressor)
PIXELS_PER_TOKEN_SIDE = 64

VISION_TOKEN_COUNTS = ("code", "readme")

FONT_FILE = "DejaVuSansMono.ttf"

#: PNG grey bit depths a page can be stored at (PNG colour type 0)
GRAY_BITS = (1, 2, 4, 8)

_WORD = re.compile(r"\S+\s*|\s+")


def vision_tokens(mode: str, count: str = "code") -> int:
    """Vision tokens DeepSeek-OCR spends on one page of ``mode``: 73/111/273/421 (code) or 64/100/256/400 (readme)."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    if count not in VISION_TOKEN_COUNTS:
        raise ValueError(f"count must be one of {VISION_TOKEN_COUNTS}, got {count!r}")
    side = MODES[mode] // PIXELS_PER_TOKEN_SIDE
    return side * side + (side + 1 if count == "code" else 0)


def font_path() -> Path:
    """The bundled DejaVu Sans Mono (licence: fonts/LICENSE_DEJAVU)."""
    return Path(str(resources.files("trove_blocks") / "fonts" / FONT_FILE))


@dataclass(frozen=True)
class PageStyle:
    """How a page looks. ``margin`` is a fraction of the page side on each edge; sizes are in pixels."""

    margin: float = 0.03
    min_font_size: int = 6
    max_font_size: int = 64
    line_spacing: float = 1.15
    gray_bits: int = 2
    font_file: str | None = None

    def __post_init__(self):
        if not 0 <= self.margin < 0.5:
            raise ValueError(f"margin must be in [0, 0.5), got {self.margin}")
        if not 1 <= self.min_font_size <= self.max_font_size:
            raise ValueError(
                f"need 1 <= min_font_size <= max_font_size, got {self.min_font_size}, {self.max_font_size}"
            )
        if self.line_spacing < 1:
            raise ValueError(f"line_spacing must be >= 1, got {self.line_spacing}")
        if self.gray_bits not in GRAY_BITS:
            raise ValueError(f"gray_bits must be one of {GRAY_BITS}, got {self.gray_bits}")


@dataclass(frozen=True)
class PageLayout:
    """Where the text goes on one page: wrapped ``lines`` at ``font_size`` px, ``line_height`` px apart.

    ``overflow`` is True when the text did not fit even at the smallest font size; ``lines`` then holds the first
    lines, as many as fit, out of ``total_lines``.
    """

    side: int
    margin_px: int
    font_size: int
    line_height: int
    lines: tuple[str, ...]
    overflow: bool
    total_lines: int


#: measured widths a font keeps (~110 bytes each): a task renders millions of distinct word forms (punctuation
#: stays attached, numbers, other scripts) at up to ~60 sizes, so the cache starts afresh when full
WIDTH_CACHE_ENTRIES = 1 << 14


class _Font:
    """A FreeType font at one size with a bounded cache of measured word widths (in pixels)."""

    def __init__(self, path: str, size: int):
        from PIL import ImageFont

        self.font = ImageFont.truetype(path, size)
        self.size = size
        self._widths: dict[str, float] = {}

    def width(self, text: str) -> float:
        width = self._widths.get(text)
        if width is None:
            if len(self._widths) >= WIDTH_CACHE_ENTRIES:
                self._widths.clear()  # the words a page needs come back at once; rare ones leave
            width = self._widths[text] = self.font.getlength(text)
        return width


@lru_cache(maxsize=512)
def _font(path: str, size: int) -> _Font:
    return _Font(path, size)


@lru_cache(maxsize=8)
def font_characters(path: str) -> frozenset[str]:
    """The characters the TrueType/OpenType font at ``path`` has a glyph for, read from its ``cmap`` table (the
    Unicode subtable: format 12, else format 4). Any other character is drawn as the font's empty box."""
    data = Path(path).read_bytes()
    start = struct.unpack_from(">I", data, 12)[0] if data[:4] == b"ttcf" else 0  # a collection: its first font
    (table_count,) = struct.unpack_from(">H", data, start + 4)
    tables = {
        data[record : record + 4]: struct.unpack_from(">I", data, record + 8)[0]
        for record in range(start + 12, start + 12 + 16 * table_count, 16)
    }
    if b"cmap" not in tables:
        raise ValueError(f"font {path}: no cmap table (not a TrueType/OpenType font?)")
    cmap = tables[b"cmap"]
    (count,) = struct.unpack_from(">H", data, cmap + 2)
    subtables = {}
    for record in range(cmap + 4, cmap + 4 + 8 * count, 8):
        platform, encoding, offset = struct.unpack_from(">HHI", data, record)
        subtables[(platform, encoding)] = cmap + offset
    for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3)):
        if key in subtables and struct.unpack_from(">H", data, subtables[key])[0] in (4, 12):
            return frozenset(map(chr, _cmap_codepoints(data, subtables[key])))
    raise ValueError(f"font {path}: no Unicode cmap subtable of format 4 or 12")


def _cmap_codepoints(data: bytes, at: int) -> Iterator[int]:
    """Code points mapped to a glyph other than 0 (the missing-glyph box) by the cmap subtable at ``at``."""
    if struct.unpack_from(">H", data, at)[0] == 12:  # groups of (first char, last char, first glyph)
        (groups,) = struct.unpack_from(">I", data, at + 12)
        for group in range(at + 16, at + 16 + 12 * groups, 12):
            first, last, glyph = struct.unpack_from(">III", data, group)
            yield from range(first + (glyph == 0), last + 1)
        return
    segments = struct.unpack_from(">H", data, at + 6)[0] // 2  # format 4: segments of (end, start, delta, range)
    ends = struct.unpack_from(f">{segments}H", data, at + 14)
    starts = struct.unpack_from(f">{segments}H", data, at + 16 + 2 * segments)
    deltas = struct.unpack_from(f">{segments}h", data, at + 16 + 4 * segments)
    range_at = at + 16 + 6 * segments
    range_offsets = struct.unpack_from(f">{segments}H", data, range_at)
    for index, (first, last, delta, range_offset) in enumerate(zip(starts, ends, deltas, range_offsets)):
        for code in range(first, min(last, 0xFFFE) + 1):
            if range_offset:
                glyph_at = range_at + 2 * index + range_offset + 2 * (code - first)
                glyph = struct.unpack_from(">H", data, glyph_at)[0]
                glyph = (glyph + delta) & 0xFFFF if glyph else 0
            else:
                glyph = (code + delta) & 0xFFFF
            if glyph:
                yield code


def missing_characters(text: str, font_file: str | None = None) -> str:
    """The distinct characters of ``text`` (sorted) that a page shows as the font's empty box: those without a glyph
    in the font (default: the bundled one) and without a canonical decomposition into characters that have one (the
    layout engine, HarfBuzz, draws e.g. a missing precomposed letter as its base letter and accent). Newlines, tabs
    and carriage returns are laid out, not drawn."""
    font = font_characters(font_file or str(font_path()))
    candidates = set(text) - font - {"\n", "\r", "\t"}
    return "".join(sorted(char for char in candidates if not set(unicodedata.normalize("NFD", char)) <= font))


def normalise_text(text: str) -> str:
    """The text as a page shows it: ``\\r\\n`` and ``\\r`` become newlines, tabs 4 spaces."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")


def wrap(text: str, font: _Font, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width`` px: break after spaces, inside a word only when it alone is too wide.

    Every ``\\n`` starts a new line (empty lines kept). Trailing spaces of a broken line are kept in the line
    string but never pushed onto the next one.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_width = "", 0.0
        for word in _WORD.findall(paragraph):
            word_width = font.width(word)
            if line_width + font.width(word.rstrip()) <= width:
                line, line_width = line + word, line_width + word_width
                continue
            if line:
                lines.append(line)
                line, line_width = "", 0.0
                if word.isspace():
                    continue
            if font.width(word.rstrip()) <= width:
                line, line_width = word, word_width
                continue
            for char in word:  # one word wider than the line: break it where it reaches the edge
                char_width = font.width(char)
                if line and line_width + char_width > width and not char.isspace():
                    lines.append(line)
                    line, line_width = "", 0.0
                line, line_width = line + char, line_width + char_width
        lines.append(line)
    return lines


def layout_page(text: str, side: int, style: PageStyle = PageStyle()) -> PageLayout:
    """Fit ``text`` on a ``side`` x ``side`` page at the largest font size whose wrapped lines all fit."""
    normalised = normalise_text(text)
    path = style.font_file or str(font_path())
    margin_px = round(side * style.margin)
    inner = side - 2 * margin_px

    def attempt(size: int) -> tuple[list[str], int, bool]:
        line_height = max(1, round(size * style.line_spacing))
        lines = wrap(normalised, _font(path, size), inner)
        return lines, line_height, len(lines) * line_height <= inner + line_height - size

    # start from the size at which the characters alone would fill the page, then step: usually 2-3 wraps,
    # where a bisection over [min, max] takes 6
    advance = _font(path, 100).width("M") / 100
    by_area = (inner * inner / (max(1, len(normalised)) * advance * style.line_spacing)) ** 0.5
    by_newlines = inner / ((normalised.count("\n") + 1) * style.line_spacing)
    estimate = int(min(by_area, by_newlines))
    size = min(max(estimate, style.min_font_size), style.max_font_size)
    tried: dict[int, tuple[list[str], int, bool]] = {}
    best = None
    while style.min_font_size <= size <= style.max_font_size and size not in tried:
        tried[size] = attempt(size)
        lines, line_height, fits = tried[size]
        if fits:
            best = (size, lines, line_height)
            size += 1
        elif best is not None:
            break
        else:
            size -= 1
    if best is not None:
        size, lines, line_height = best
        return PageLayout(side, margin_px, size, line_height, tuple(lines), False, len(lines))
    size = style.min_font_size
    lines, line_height, _ = attempt(size)
    capacity = max(0, (inner - size) // line_height + 1)
    return PageLayout(side, margin_px, size, line_height, tuple(lines[:capacity]), True, len(lines))


def draw_page(layout: PageLayout, font_file: str | None = None):
    """The page of ``layout`` as a grayscale (mode "L") Pillow image: black text on white."""
    from PIL import Image, ImageDraw

    font = _font(font_file or str(font_path()), layout.font_size).font
    image = Image.new("L", (layout.side, layout.side), 255)
    draw = ImageDraw.Draw(image)
    y = layout.margin_px
    for line in layout.lines:
        if line.strip():
            draw.text((layout.margin_px, y), line, font=font, fill=0)
        y += layout.line_height
    return image


@lru_cache(maxsize=len(GRAY_BITS))
def _quantise_table(bits: int) -> list[int]:
    """Maps 0..255 to the nearest of ``2**bits`` evenly spaced greys whose bit pattern repeats (0, 85, 170, 255 for
    2 bits), so PNG's packed ``L;<bits>`` raw mode stores them exactly and a reader gets the same values back."""
    top = (1 << bits) - 1
    step = 255 // top
    return [round(value / 255 * top) * step for value in range(256)]


def png_bytes(image, gray_bits: int = 8, compress_level: int = 6) -> bytes:
    """Grayscale ``image`` as a PNG of ``gray_bits`` bits per pixel (no time stamp, so equal images, equal bytes).

    Fewer bits keep the anti-aliased edges in coarser steps: 2 bits (4 greys) keeps text legible down to the
    8 px font of a tiny page and stores a page in about a third of the bytes of 8-bit grey (see bench/render).
    """
    if gray_bits != 8:
        image = image.point(_quantise_table(gray_bits))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level, bits=gray_bits)
    return buffer.getvalue()


@dataclass(frozen=True)
class RenderedPage:
    """One rendered page: its PNG bytes and the layout it was drawn from."""

    mode: str
    png: bytes
    layout: PageLayout


def render_page(text: str, mode: str, style: PageStyle = PageStyle()) -> RenderedPage:
    """``text`` laid out and drawn on one page of ``mode`` (see :data:`MODES`), as grayscale PNG bytes."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; known: {', '.join(MODES)}")
    layout = layout_page(text, MODES[mode], style)
    return RenderedPage(mode, png_bytes(draw_page(layout, style.font_file), style.gray_bits), layout)
