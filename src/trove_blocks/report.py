"""A picture of a dataset: panels of histograms (per-document statistics) or of labelled bars, in one PNG.

Why: datatrove's stats blocks (DocStats, WordStats, LineStats, ...) and StatsMerger leave hundreds of JSON
numbers; a page of histograms shows at a glance what a dataset is made of (how long, how wordy, how many
lines). Reads the merged files StatsMerger writes, ``<stats>/histogram/<stat>/metric.json`` =
``{"<value rounded>": {"total": <documents>, ...}}`` and ``<stats>/summary/<stat>/metric.json``. Bar panels
(:func:`render_bar_panels`) show counts or shares by category, e.g. a split's difficulty mix or exclusions by
reason. Draws with Pillow only (its built-in scalable font, so no system font is needed).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from trove_blocks.io import atomic_output

PANEL_WIDTH, PANEL_HEIGHT = 480, 300
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 16, 56, 40
BAR_COLOUR, AXIS_COLOUR, TEXT_COLOUR, MEAN_COLOUR = (70, 110, 170), (90, 90, 90), (20, 20, 20), (200, 60, 40)
#: colours of the series of a bar panel, in order (the first is the histograms' bar colour)
SERIES_COLOURS = (BAR_COLOUR, (230, 145, 56), (106, 168, 79), (142, 124, 195))


@dataclass(frozen=True)
class Histogram:
    """One statistic's distribution: ``counts`` maps a value to the number of documents that have it."""

    name: str
    counts: dict[float, int]

    @property
    def documents(self) -> int:
        return sum(self.counts.values())

    @property
    def mean(self) -> float:
        return sum(value * n for value, n in self.counts.items()) / self.documents if self.documents else 0.0

    def quantile(self, q: float) -> float:
        """The smallest value with at least ``q`` of the documents at or below it (0 <= q <= 1)."""
        if not self.counts:
            return 0.0
        needed, seen = q * self.documents, 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= needed:
                return value
        return max(self.counts)

    def bins(self, n_bins: int, log: bool = False) -> tuple[list[float], list[int]]:
        """``n_bins`` equal-width bins over [min, max] (in log10 space when ``log``): their edges and counts."""
        if not self.counts:
            return [0.0, 1.0], [0]
        scale = (lambda v: math.log10(max(v, 1e-9))) if log else (lambda v: v)
        low, high = scale(min(self.counts)), scale(max(self.counts))
        width = (high - low) / n_bins or 1.0
        counts = [0] * n_bins
        for value, n in self.counts.items():
            counts[min(int((scale(value) - low) / width), n_bins - 1)] += n
        edges = [low + i * width for i in range(n_bins + 1)]
        return ([10**e for e in edges] if log else edges), counts


def read_histogram(stats_dir: str | Path, stat: str) -> Histogram:
    """The merged histogram of ``stat`` under ``stats_dir`` (StatsMerger's output folder)."""
    path = Path(stats_dir) / "histogram" / stat / "metric.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise FileNotFoundError(f"{path}: no merged histogram for {stat!r} (did StatsMerger run?)") from error
    counts: dict[float, int] = {}
    for key, value in data.items():
        try:
            counts[float(key)] = int(value["total"])
        except (TypeError, KeyError, ValueError) as error:
            raise ValueError(f"{path}: entry {key!r} is not a histogram bin {{'total': n}}: {value!r}") from error
    return Histogram(stat, counts)


def read_summary(stats_dir: str | Path, stat: str) -> dict[str, float]:
    """The merged summary of ``stat``: n, mean, std_dev, min, max, total."""
    path = Path(stats_dir) / "summary" / stat / "metric.json"
    return json.loads(path.read_text())["summary"]


def _format(value: float) -> str:
    if abs(value) >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:.3g}"


def render_histograms(
    histograms: list[Histogram],
    path: str | Path,
    *,
    title: str = "",
    columns: int = 2,
    n_bins: int = 30,
    log_scale: frozenset[str] = frozenset(),
) -> Path:
    """Draw one panel per histogram (bars, x range, mean as a red line, document counts) into a PNG at ``path``.

    Statistics named in ``log_scale`` get log-width bins (for long-tailed counts such as lengths).
    """
    image, draw, (font, small), header = _canvas(len(histograms), columns, title)
    for i, hist in enumerate(histograms):
        x0, y0 = (i % columns) * PANEL_WIDTH, header + (i // columns) * PANEL_HEIGHT
        log = hist.name in log_scale
        edges, counts = hist.bins(n_bins, log=log)
        left, right = x0 + MARGIN_LEFT, x0 + PANEL_WIDTH - MARGIN_RIGHT
        top, bottom = y0 + MARGIN_TOP, y0 + PANEL_HEIGHT - MARGIN_BOTTOM
        draw.text(
            (x0 + 12, y0 + 8),
            f"{hist.name}{' (log bins)' if log else ''}",
            fill=TEXT_COLOUR,
            font=font,
        )
        draw.text(
            (x0 + 12, y0 + 28),
            f"{hist.documents} docs, mean {_format(hist.mean)}, median {_format(hist.quantile(0.5))}",
            fill=AXIS_COLOUR,
            font=small,
        )
        peak = max(counts) or 1
        bar_width = (right - left) / len(counts)
        for j, n in enumerate(counts):
            if n:
                height = (bottom - top) * n / peak
                draw.rectangle(
                    (left + j * bar_width + 1, bottom - height, left + (j + 1) * bar_width - 1, bottom), fill=BAR_COLOUR
                )
        draw.line((left, bottom, right, bottom), fill=AXIS_COLOUR)
        draw.line((left, top, left, bottom), fill=AXIS_COLOUR)
        draw.text((x0 + 6, top - 6), str(peak), fill=AXIS_COLOUR, font=small)
        draw.text((x0 + 6, bottom - 14), "0", fill=AXIS_COLOUR, font=small)
        draw.text((left, bottom + 6), _format(edges[0]), fill=AXIS_COLOUR, font=small)
        high = _format(edges[-1])
        draw.text((right - draw.textlength(high, font=small), bottom + 6), high, fill=AXIS_COLOUR, font=small)
        span_low, span_high = (
            (math.log10(max(e, 1e-9)) for e in (edges[0], edges[-1])) if log else (edges[0], edges[-1])
        )
        mean = math.log10(max(hist.mean, 1e-9)) if log else hist.mean
        if span_high > span_low:
            x_mean = left + (right - left) * (mean - span_low) / (span_high - span_low)
            draw.line((x_mean, top, x_mean, bottom), fill=MEAN_COLOUR, width=2)
    return _save_png(image, path)


@dataclass(frozen=True)
class BarPanel:
    """One panel of labelled bars: ``bars`` maps a category to ``{series: value}``, one bar per series side by side
    (e.g. ``{"Simple": {"train": 41.2, "val": 40.8}}``); ``unit`` follows each value's label (e.g. ``"%"``)."""

    name: str
    bars: dict[str, dict[str, float]]
    subtitle: str = ""
    unit: str = ""


def render_bar_panels(panels: list[BarPanel], path: str | Path, *, title: str = "", columns: int = 2) -> Path:
    """Draw one panel of bars per :class:`BarPanel` (value above each bar, series colours in the legend) into a PNG."""
    image, draw, (font, small), header = _canvas(len(panels), columns, title)
    for i, panel in enumerate(panels):
        x0, y0 = (i % columns) * PANEL_WIDTH, header + (i // columns) * PANEL_HEIGHT
        left, right = x0 + MARGIN_LEFT, x0 + PANEL_WIDTH - MARGIN_RIGHT
        top, bottom = y0 + MARGIN_TOP + 14, y0 + PANEL_HEIGHT - MARGIN_BOTTOM
        draw.text((x0 + 12, y0 + 8), panel.name, fill=TEXT_COLOUR, font=font)
        draw.text((x0 + 12, y0 + 28), panel.subtitle, fill=AXIS_COLOUR, font=small)
        series = list(dict.fromkeys(name for values in panel.bars.values() for name in values))
        legend = right
        for name, colour in reversed(list(zip(series, SERIES_COLOURS)) if len(series) > 1 else []):
            legend -= draw.textlength(name, font=small) + 18
            draw.rectangle((legend, y0 + 48, legend + 10, y0 + 58), fill=colour)
            draw.text((legend + 13, y0 + 46), name, fill=AXIS_COLOUR, font=small)
        peak = max((value for values in panel.bars.values() for value in values.values()), default=0) or 1
        slot = (right - left) / max(1, len(panel.bars))
        bar_width = (slot - 8) / max(1, len(series))
        for j, (category, values) in enumerate(panel.bars.items()):
            for k, (name, colour) in enumerate(zip(series, SERIES_COLOURS)):
                value = values.get(name, 0)
                x = left + j * slot + 4 + k * bar_width
                height = (bottom - top) * value / peak
                draw.rectangle((x + 1, bottom - height, x + bar_width - 1, bottom), fill=colour)
                label = f"{_format(value)}{panel.unit}"
                width = draw.textlength(label, font=small)
                draw.text((x + (bar_width - width) / 2, bottom - height - 14), label, fill=TEXT_COLOUR, font=small)
            name = category if draw.textlength(category, font=small) <= slot else category[: int(slot // 7)] + "…"
            width = draw.textlength(name, font=small)
            draw.text((left + j * slot + (slot - width) / 2, bottom + 6), name, fill=AXIS_COLOUR, font=small)
        draw.line((left, bottom, right, bottom), fill=AXIS_COLOUR)
    return _save_png(image, path)


def _canvas(panels: int, columns: int, title: str):
    """``(image, draw, (font, small font), header height)``: a white page for ``panels`` panels, title drawn."""
    from PIL import Image, ImageDraw, ImageFont

    rows = max(1, math.ceil(panels / columns))
    header = 40 if title else 0
    image = Image.new("RGB", (columns * PANEL_WIDTH, header + rows * PANEL_HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font, small, big = (ImageFont.load_default(size=size) for size in (14, 12, 18))
    if title:
        draw.text((12, 10), title, fill=TEXT_COLOUR, font=big)
    return image, draw, (font, small), header


def _save_png(image, path: str | Path) -> Path:
    target = Path(path)
    with atomic_output(target, "wb") as handle:
        image.save(handle, format="PNG")  # optimize=True: 4 % smaller, 3x the time (11 ms a page)
    return target
