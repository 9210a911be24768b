"""Compression report (per mode: text tokens / vision tokens, as in the seed's table) and a contact sheet image.

The ratio of a sample in a mode is ``text_tokens / vision_tokens(mode)`` (see :func:`trove_blocks.render.vision_tokens`
for which vision-token numbers are used). The aggregate gives, per mode, the mean, min and max ratio, the mean
font size the page needed, how many pages overflowed, and PNG bytes per page.
"""

from __future__ import annotations

import io
import statistics
from collections.abc import Iterable

from trove_blocks.render import MODES, vision_tokens


def aggregate(stats: Iterable[dict], modes: tuple[str, ...], vision_token_count: str = "code") -> dict:
    """Aggregate the per-sample rows of :func:`trove_blocks.finewiki.samples.iter_sample_stats`."""
    characters, text_tokens = [], []
    per_mode: dict[str, dict[str, list]] = {mode: {"font_size": [], "overflow": [], "png_bytes": []} for mode in modes}
    for row in stats:
        characters.append(row["characters"])
        text_tokens.append(row["text_tokens"])
        for mode in modes:
            for key, values in per_mode[mode].items():
                values.append(row[mode][key])
    report: dict = {
        "samples": len(text_tokens),
        "vision_token_count": vision_token_count,
        "characters": _summary(characters),
        "text_tokens": _summary(text_tokens),
        "modes": {},
    }
    for mode in modes:
        vision = vision_tokens(mode, vision_token_count)
        ratios = [tokens / vision for tokens in text_tokens]
        values = per_mode[mode]
        report["modes"][mode] = {
            "resolution": f"{MODES[mode]}x{MODES[mode]}",
            "vision_tokens": vision,
            "compression": _summary(ratios),
            "font_size": _summary(values["font_size"]),
            "overflow_pages": sum(bool(flag) for flag in values["overflow"]),
            "png_bytes": _summary(values["png_bytes"]),
            "png_bytes_total": sum(values["png_bytes"]),
        }
    return report


def _summary(values: list) -> dict:
    if not values:
        return {"mean": None, "min": None, "max": None}
    return {"mean": round(statistics.fmean(values), 4), "min": min(values), "max": max(values)}


def markdown_table(report: dict) -> str:
    """The seed's table (mode, resolution, vision tokens, compression) with the measured figures added."""
    lines = [
        f"{report['samples']} samples, text tokens per sample: mean {report['text_tokens']['mean']}, "
        f"characters per sample: mean {report['characters']['mean']} "
        f"(vision tokens: DeepSeek-OCR {report['vision_token_count']})",
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
