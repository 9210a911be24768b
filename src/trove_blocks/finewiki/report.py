"""Compression report (per mode: text tokens / vision tokens, as in the seed's table) and a contact sheet image.

The ratio of a sample in a mode is ``text_tokens / vision_tokens(mode)`` (see :func:`trove_blocks.render.vision_tokens`
for which vision-token numbers are used). The aggregate gives, per mode, the mean, min and max ratio, the mean
font size the page needed, how many pages overflowed, and PNG bytes per page.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from trove_blocks.render import MODES, vision_tokens


class _Summary:
    """Running mean, min and max of numbers (memory does not grow with their count; integer sums stay exact)."""

    def __init__(self):
        self.count = 0
        self.total = 0
        self.min = self.max = None

    def add(self, value) -> None:
        self.count += 1
        self.total += value
        self.min = value if self.min is None or value < self.min else self.min
        self.max = value if self.max is None or value > self.max else self.max

    def to_json(self, per: int | None = None) -> dict:
        """``{"mean", "min", "max"}`` (mean rounded to 4 decimals); with ``per``, of the values divided by it."""
        if not self.count:
            return {"mean": None, "min": None, "max": None}
        if per is None:
            return {"mean": round(self.total / self.count, 4), "min": self.min, "max": self.max}
        return {"mean": round(self.total / (self.count * per), 4), "min": self.min / per, "max": self.max / per}


def aggregate(stats: Iterable[dict], modes: tuple[str, ...], vision_token_count: str = "code") -> dict:
    """Aggregate the per-sample rows of :func:`trove_blocks.finewiki.samples.iter_sample_stats`, one at a time."""
    characters, text_tokens = _Summary(), _Summary()
    per_mode = {mode: {"font_size": _Summary(), "png_bytes": _Summary()} for mode in modes}
    overflow = dict.fromkeys(modes, 0)
    for row in stats:
        characters.add(row["characters"])
        text_tokens.add(row["text_tokens"])
        for mode in modes:
            per_mode[mode]["font_size"].add(row[mode]["font_size"])
            per_mode[mode]["png_bytes"].add(row[mode]["png_bytes"])
            overflow[mode] += bool(row[mode]["overflow"])
    report: dict = {
        "samples": text_tokens.count,
        "vision_token_count": vision_token_count,
        "characters": characters.to_json(),
        "text_tokens": text_tokens.to_json(),
        "modes": {},
    }
    for mode in modes:
        vision = vision_tokens(mode, vision_token_count)
        report["modes"][mode] = {
            "resolution": f"{MODES[mode]}x{MODES[mode]}",
            "vision_tokens": vision,
            "compression": text_tokens.to_json(per=vision),  # ratio = text tokens / vision tokens
            "font_size": per_mode[mode]["font_size"].to_json(),
            "overflow_pages": overflow[mode],
            "png_bytes": per_mode[mode]["png_bytes"].to_json(),
            "png_bytes_total": per_mode[mode]["png_bytes"].total,
        }
    return report


def markdown_table(report: dict) -> str:
    """The seed's table (mode, resolution, vision tokens, compression) with the measured figures added."""
    figures = (
        f"text tokens per sample: mean {report['text_tokens']['mean']}, "
        f"characters per sample: mean {report['characters']['mean']} "
        if report["samples"]
        else "nothing to measure "
    )
    lines = [
        f"{report['samples']} samples, {figures}(vision tokens: DeepSeek-OCR {report['vision_token_count']})",
        "",
        "| Mode | Resolution | Vision Tokens | Compression (mean, min-max) | Font px (mean) | Overflow | PNG KB |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode, row in report["modes"].items():
        ratio = row["compression"]
        png = row["png_bytes"]["mean"]
        lines.append(
            f"| {mode} | {row['resolution']} | {row['vision_tokens']} | "
            + (
                f"{ratio['mean']:.1f}x ({ratio['min']:.1f}-{ratio['max']:.1f}) | "
                if ratio["mean"] is not None
                else "- | "
            )
            + (f"{row['font_size']['mean']:.1f} | " if row["font_size"]["mean"] is not None else "- | ")
            + f"{row['overflow_pages']} | "
            + (f"{png / 1024:.1f} |" if png is not None else "- |")
        )
    return "\n".join(lines) + "\n"


def contact_sheet(pages: list[tuple[str, dict[str, bytes]]], modes: tuple[str, ...], thumb: int = 320) -> bytes:
    """One PNG with a row per sample and a column per mode: each page scaled to ``thumb`` px, labelled above."""
    from PIL import Image, ImageDraw

    from trove_blocks.render import _font, font_path

    label_px, pad = 14, 8
    font = _font(str(font_path()), 12).font
    width = pad + len(modes) * (thumb + pad)
    height = pad + max(1, len(pages)) * (thumb + label_px + pad)
    sheet = Image.new("L", (width, height), 200)
    draw = ImageDraw.Draw(sheet)
    for row, (sample, images) in enumerate(pages):
        top = pad + row * (thumb + label_px + pad)
        for column, mode in enumerate(modes):
            left = pad + column * (thumb + pad)
            page = Image.open(io.BytesIO(images[mode])).convert("L")
            draw.text((left, top), f"{mode} {page.width}px  {sample}"[: thumb // 7], font=font, fill=0)
            sheet.paste(page.resize((thumb, thumb), Image.Resampling.LANCZOS), (left, top + label_px))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
